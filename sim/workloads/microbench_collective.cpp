// Collective microbench ops: owned by the network model (models/network.*). This first
// version only rejects them, positioned, so microbench files that use them fail cleanly.
#include "sim/engine/simulation.h"
#include "sim/workloads/microbench.h"

namespace llmsim {

CollectiveOpSpec parse_collective_op(const std::string& op, Fields& f, const Topology& topo) {
  (void)topo;
  throw InputError(f.pos(), "workload.ops: '" + op + "': collective microbench ops need the network model");
}

void run_collective_op(Simulation& sim, const CollectiveOpSpec& spec,
                       std::function<void(const MicrobenchResult&)> done) {
  (void)sim;
  (void)done;
  throw InputError(spec.pos, "collective microbench ops need the network model");
}

}  // namespace llmsim
