// Goodput over a long horizon (docs/faults.md "Goodput"): the share of N days a training
// job spends on work it keeps, when components fail at given rates and the job restarts
// from its last checkpoint. The step time comes from the simulation (picoseconds); the
// days are composed on top of it in double seconds by a seeded Monte Carlo of failure
// arrivals (docs/architecture.md "The time base and its horizon"), never on SimTime.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/core/units.h"

namespace llmsim {

struct GoodputInputs {
  Seconds step_s = 0;        // one training step, as simulated
  Seconds horizon_s = 0;     // wall time the job runs (N days)
  Seconds interval_s = 0;    // work between checkpoints (rounded to whole steps)
  Seconds checkpoint_s = 0;  // writing one checkpoint (training stops meanwhile)
  Seconds restart_s = 0;     // from a failure to training again (reschedule, load the checkpoint)
  Hertz failures_per_s = 0;  // the whole job's failure rate (sum over components)
  int trials = 100;
  std::uint64_t seed = 1;
};

struct GoodputResult {
  double mean = 0, p5 = 0, p95 = 0;  // useful-work share of the horizon, over trials
  double failures = 0;               // mean failures per trial
  Seconds interval_s = 0;            // the interval used, after rounding to whole steps
  Seconds lost_work_s = 0, restart_s = 0, checkpoint_s = 0;  // mean time per trial spent on each
};

// Work between checkpoints: `interval_s` rounded to a whole number (>= 1) of steps.
Seconds interval_in_steps(Seconds interval_s, Seconds step_s);

// Each trial draws one Poisson process of failure times over the horizon (seed, trial), so
// two intervals see the same failures (common random numbers) and their goodputs compare
// without sampling noise between them.
GoodputResult simulate_goodput(const GoodputInputs& in);

// The interval with the highest mean goodput: a logarithmic grid from one step to half the
// horizon, then a finer grid between the best point's neighbours. Young/Daly's
// sqrt(2 x checkpoint x MTBF) is not used here, so tests can compare against it.
Seconds best_checkpoint_interval(const GoodputInputs& in);

}  // namespace llmsim
