#include "sim/output/sinks.h"

#include "sim/engine/simulation.h"

namespace llmsim {

// Chrome trace JSON and VCD sinks are added here as they land (issue 6).
void attach_sinks(Simulation& sim) { (void)sim; }

}  // namespace llmsim
