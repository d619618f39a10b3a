// Attaches the output sinks a run asked for (--timeline, --vcd) to its recorder.
#pragma once

namespace llmsim {
class Simulation;
void attach_sinks(Simulation& sim);
}  // namespace llmsim
