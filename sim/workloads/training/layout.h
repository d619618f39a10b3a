// The rank mapping as text, for `llmsim check` (and `llmsim check TOPOLOGY WORKLOAD`, which
// also names the fabrics each kind of group's traffic crosses).
#pragma once
#include <string>

#include "sim/topo/topology.h"
#include "sim/workloads/training/config.h"

namespace llmsim {

// `topo` may have no devices (then the groups are listed by rank only).
std::string training_layout(const TrainingConfig& c, const Topology& topo);

}  // namespace llmsim
