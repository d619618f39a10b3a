// `llmsim run` as a library function (sim/engine/run.cpp): load -> validate -> elaborate ->
// run -> finalize. Returns the process exit status; errors propagate as InputError (2),
// InfeasibleError (3) or other exceptions (1), mapped in sim/cli/main.cpp.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/engine/simulation.h"

namespace llmsim {

struct RunArgs {
  std::string topology;
  std::string workload;
  RunOptions options;
  std::vector<std::string> faults;  // --fault arguments, in order (sim/engine/faults.h)
  // --optimal-checkpoint: a training workload's goodput also searches the checkpoint
  // interval (`goodput.search_interval: true`, docs/faults.md "Goodput").
  bool optimal_checkpoint = false;
};
int cmd_run(const RunArgs& args, std::ostream& out);

}  // namespace llmsim
