#include "models/network.h"

#include "sim/engine/simulation.h"

namespace llmsim {

Network::Network(const sc_core::sc_module_name& name, Simulation& sim) : sc_core::sc_module(name), sim_(sim) {}

}  // namespace llmsim
