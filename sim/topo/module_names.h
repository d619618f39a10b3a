// Names of the SystemC modules the topology elaborates into, shared by the modules
// (models/fabric.h) and by whatever records under those names (FlowNet's link tracks), so
// VCD scopes and timeline tracks equal module names: a fabric is a top-level module named
// after it (`nvlink`), a switch `nvlink.sw0`, a link `nvlink.gpu0-sw0`.
#pragma once
#include <string>
#include <vector>

#include "sim/topo/topology.h"

namespace llmsim {

// SystemC object names cannot contain '.', the hierarchy separator, or spaces.
std::string sc_safe_name(std::string name);

// A vertex's name inside a fabric's module: the topology names switches with their fabric
// in front ("nvlink.sw0"), which the module path already says.
std::string vertex_local_name(const Topology& topo, int vertex, int fabric);

// Per link: "a-b" with local names, made unique within its fabric ("gpu0-gpu1_2" for a
// second link between the same pair).
std::vector<std::string> link_module_names(const Topology& topo);

}  // namespace llmsim
