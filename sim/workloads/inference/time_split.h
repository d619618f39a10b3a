// Where a serving iteration's wall time goes (summary.json inference.time_split): the
// device's compute-bound and memory-bound op time, communication on the critical path
// (TP collectives, pipeline sends) and exposed host time (the stack's per-iteration
// preparation when it does not overlap, plus launches the device had to wait for).
#pragma once
#include "sim/core/units.h"
#include "sim/engine/workload.h"

namespace llmsim {

struct TimeSplit {
  Seconds compute = 0;
  Seconds memory = 0;
  Seconds communication = 0;
  Seconds host = 0;

  // One iteration: `wall` from its start to its end, `device` the device chain (first
  // compute op's start to the last device op's end) of which `comm` was communication and
  // `memory_share` of the rest memory-bound ops.
  void add(Seconds wall, Seconds device, Seconds comm, double memory_share);
  TimeSplit& operator+=(const TimeSplit& o);
  Seconds total() const { return compute + memory + communication + host; }
  Json to_json() const;  // seconds and fractions of the total
};

}  // namespace llmsim
