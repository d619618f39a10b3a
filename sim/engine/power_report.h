// summary.json `power` block (docs/outputs.md "power"): totals, per component, per device,
// host and facility energy. Reads the per-device monitors (models/power_governor.h) that
// the Simulation owns, so it lives with the engine, above models/.
#pragma once
#include "sim/engine/workload.h"

namespace llmsim {

class Simulation;

Json power_summary(Simulation& sim);

}  // namespace llmsim
