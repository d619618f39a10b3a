// State changes at given simulated times: the `events:` list of a microbench workload
// (docs/microbench.md "Events"), e.g. `- {at: 5 us, link: gpu0-gpu1, state: down}`, and the
// `faults:` of any workload (sim/engine/faults.h builds its entries on parse_event_entry).
// Parsed at load (positioned InputErrors, exit 2), scheduled on the event queue at start.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/core/yaml_doc.h"
#include "sim/topo/topology.h"

namespace llmsim {

class Simulation;

struct TimedEvent {
  SimTime at = 0;
  SourcePos pos;          // the entry, named when applying it fails
  std::string what;       // "link gpu0-gpu1 down", for messages
  std::function<void(Simulation&)> apply;
};

// One entry without its `at:` (the subject key and its fields: `link:`, `device:`,
// `switch:`); `f.finish()` is left to the caller. `what` is set; `at` and `pos` are not.
TimedEvent parse_event_entry(Fields& f, const Topology& topo, const std::string& what);

// Reads the optional top-level `events:` of `root` (the workload document's fields). `topo`
// is empty under `llmsim check`: names are checked for shape only then.
std::vector<TimedEvent> parse_events(Fields& root, const Topology& topo);

// Schedules each event at its time, ahead of everything else at that instant, so work
// starting or ending then already sees the new state; events due now apply at once (call
// this before issuing any work).
void schedule_events(Simulation& sim, const std::vector<TimedEvent>& events);

}  // namespace llmsim
