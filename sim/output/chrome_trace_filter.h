// --timeline-filter: which tracks and which time window go into timeline.json.
//
// Syntax: `REGEX[@T0:T1]`
//   REGEX  ECMAScript regex that must match the WHOLE process name (`gpu[0-3]` keeps
//          gpu0..gpu3 but not gpu12; `node1/.*` keeps node 1). Empty = every process.
//   T0:T1  optional window in simulated seconds; either bound may be empty
//          (`@0.5:` = from 0.5 s on, `@:1e-3` = the first millisecond).
// Examples: `gpu[0-3]`, `gpu0@0.5:1.0`, `@0:0.002`.
// A whole-match regex (not search) so `gpu1` never silently keeps gpu10..gpu19.
#pragma once
#include <regex>
#include <string>

#include "sim/core/event_queue.h"
#include "sim/core/units.h"

namespace llmsim {

struct TrackFilter {
  std::string text;  // as given, recorded in the output's metadata
  bool has_regex = false;
  std::regex re;
  SimTime t0 = 0;
  SimTime t1 = EventQueue::kNever;

  // Throws std::invalid_argument with a message naming what is wrong.
  static TrackFilter parse(const std::string& text);
  bool keeps_name(const std::string& name) const { return !has_regex || std::regex_match(name, re); }
  // Whether an interval [b, e] overlaps the window (points: b == e).
  bool keeps_time(SimTime b, SimTime e) const { return e >= t0 && b <= t1; }
};

}  // namespace llmsim
