#include "models/device.h"

#include "sim/engine/simulation.h"

namespace llmsim {

Device::Device(const sc_core::sc_module_name& name, int index, const ChipSpec& chip, Simulation& sim)
    : sc_core::sc_module(name), index_(index), chip_(chip), sim_(sim) {}

}  // namespace llmsim
