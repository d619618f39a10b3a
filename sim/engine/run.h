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
};
int cmd_run(const RunArgs& args, std::ostream& out);

}  // namespace llmsim
