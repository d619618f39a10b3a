// A device module: one accelerator chip (compute core + memory tiers + ports).
#pragma once
#include <systemc>

#include "sim/spec/chip.h"

namespace llmsim {

class Simulation;

class Device : public sc_core::sc_module {
 public:
  Device(const sc_core::sc_module_name& name, int index, const ChipSpec& chip, Simulation& sim);
  int index() const { return index_; }
  const ChipSpec& chip() const { return chip_; }

 private:
  int index_;
  const ChipSpec& chip_;
  Simulation& sim_;
};

}  // namespace llmsim
