// A device module: one accelerator chip = a compute core + one MemoryTier per catalog
// tier (children in the SystemC hierarchy: gpu0.compute, gpu0.hbm, ...).
#pragma once
#include <systemc>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/compute_core.h"
#include "models/memory_tier.h"
#include "sim/spec/chip.h"

namespace llmsim {

class Simulation;

class Device : public sc_core::sc_module {
 public:
  Device(const sc_core::sc_module_name& name, int index, const ChipSpec& chip, Simulation& sim);
  int index() const { return index_; }
  const ChipSpec& chip() const { return chip_; }
  // The topology's name for this device ("gpu0", "node3.gpu5").
  const std::string& label() const { return label_; }

  ComputeCore& core() { return *core_; }
  const ComputeCore& core() const { return *core_; }
  // Throws std::out_of_range naming the device and its tiers when `name` is absent.
  MemoryTier& tier(const std::string& name);
  bool has_tier(const std::string& name) const;
  const std::vector<std::unique_ptr<MemoryTier>>& tiers() const { return tiers_; }
  // Tier where a kind of tensor lives (weights, kv_cache, activations, optimizer).
  MemoryTier& placement_tier(const std::string& kind);

  // Moves `bytes` between two tiers of this device: both stream concurrently (each at its
  // share of its own bandwidth), `done` runs when both have finished.
  void move(const std::string& from, const std::string& to, Bytes bytes, std::function<void()> done);

  SimTime busy_time() const { return core_->busy_time(); }
  // Compute + memory-tier dynamic energy so far.
  Joules dynamic_energy() const;
  // Idle power x `elapsed` (the whole simulated time: idle power is drawn while busy too).
  Joules idle_energy(Seconds elapsed) const { return chip_.power.idle * elapsed; }
  Joules energy(Seconds elapsed) const { return dynamic_energy() + idle_energy(elapsed); }

 private:
  int index_;
  const ChipSpec& chip_;
  Simulation& sim_;
  std::string label_;
  std::unique_ptr<ComputeCore> core_;
  std::vector<std::unique_ptr<MemoryTier>> tiers_;
};

}  // namespace llmsim
