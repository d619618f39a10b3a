// The progress line on stderr for long runs: simulated time, work done (requests, steps,
// ops, as the workload counts it), events and events/s, ETA. Shown with --progress, or
// by default when stderr is a terminal (never with --quiet, never into a log file unless
// asked), and only once a run has taken 2 s, so short runs print nothing.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>

#include "sim/core/units.h"

namespace llmsim {

// Work done so far, for the progress line on stderr: e.g. {120, 2000, "requests"};
// total 0 = unknown (then the ETA comes from --max-sim-time, if any).
struct WorkProgress {
  double done = 0, total = 0;
  std::string unit;
};

class ProgressLine {
 public:
  // `forced`: --progress; `quiet`: --quiet. `os` defaults to std::cerr.
  ProgressLine(bool forced, bool quiet, std::ostream* os = nullptr);
  bool enabled() const { return enabled_; }
  // Whether update() would print now (so callers skip gathering what it would show).
  bool due(double wall_s) const { return enabled_ && wall_s >= after_s_ && (last_ < 0 || wall_s - last_ >= 1.0); }
  // Called often; prints at most once a second, from 2 s of wall time on
  // (LLMSIM_PROGRESS_AFTER_S overrides the 2 s: tests that must see a line on a fast run). `sim_limit`
  // (--max-sim-time, or EventQueue::kNever) gives an ETA when the workload has no total.
  void update(double wall_s, SimTime now, std::uint64_t events, const WorkProgress& work, SimTime sim_limit);
  // Ends the line if one was printed.
  void finish();
  // The text of one update (no carriage return), for tests.
  static std::string format(double wall_s, SimTime now, std::uint64_t events, const WorkProgress& work,
                            SimTime sim_limit);

 private:
  bool enabled_;
  std::ostream* os_;
  double last_ = -1;
  double after_s_ = 2.0;
  std::size_t width_ = 0;
};

}  // namespace llmsim
