// A device module: one accelerator chip = its streams (compute, compute1, copy) + one
// MemoryTier per catalog tier (children in the SystemC hierarchy: gpu0.compute,
// gpu0.copy, gpu0.hbm, ...), all drawing on one ResourceArbiter (compute units, tier
// bandwidth), and an operating point (clock) that can change during a run.
#pragma once
#include <systemc>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/compute_core.h"
#include "models/fabric.h"
#include "models/memory_tier.h"
#include "sim/spec/chip.h"

namespace llmsim {

class ModelContext;

class Device : public sc_core::sc_module {
 public:
  Device(const sc_core::sc_module_name& name, int index, const ChipSpec& chip, ModelContext& sim);

 private:
  void make_ports();

 public:
  int index() const { return index_; }
  const ChipSpec& chip() const { return chip_; }
  // The topology's name for this device ("gpu0", "node3.gpu5").
  const std::string& label() const { return label_; }

  // The default compute stream.
  ComputeCore& core() { return *streams_.front(); }
  const ComputeCore& core() const { return *streams_.front(); }
  // Streams by name ("compute", "compute1", "copy"); nullptr if absent.
  ComputeCore* stream(const std::string& name);
  static const std::vector<std::string>& stream_names();
  const std::vector<std::unique_ptr<ComputeCore>>& streams() const { return streams_; }
  ResourceArbiter& arbiter() { return *arbiter_; }
  // One network port per incident link of the topology (`gpu0.nvlink0`), in link order.
  const std::vector<std::unique_ptr<NetworkPort>>& ports() const { return ports_; }
  NetworkPort* port_of_link(int link) const;
  const ResourceArbiter& arbiter() const { return *arbiter_; }

  // Operating point: the compute clock (the chip's `clock` is nominal). Ops in flight
  // are retimed: their remaining compute work runs at the new clock from now on.
  void set_clock(Hertz clock);
  Hertz clock() const { return chip_.clock * arbiter_->clock_scale(); }
  // Up / down (docs/microbench.md "Events"): while down, every resource of the device
  // serves nothing, so ops in flight and ops issued meanwhile keep their remaining work and
  // finish later by the time it was down. Its links are the network's business (the event
  // takes them down too).
  void set_up(bool up);
  bool up() const { return !arbiter_->paused(); }
  SimTime down_since() const { return down_since_; }
  // Throws std::out_of_range naming the device and its tiers when `name` is absent.
  MemoryTier& tier(const std::string& name);
  bool has_tier(const std::string& name) const;
  const std::vector<std::unique_ptr<MemoryTier>>& tiers() const { return tiers_; }
  // Tier where a kind of tensor lives (weights, kv_cache, activations, optimizer).
  MemoryTier& placement_tier(const std::string& kind);

  // Moves `bytes` between two tiers of this device: both stream concurrently (each at its
  // share of its own bandwidth), `done` runs when both have finished.
  void move(const std::string& from, const std::string& to, Bytes bytes, std::function<void()> done);

  SimTime busy_time() const { return core().busy_time(); }
  // Compute + memory-tier dynamic energy so far.
  Joules dynamic_energy() const;
  // Idle power x `elapsed` (the whole simulated time: idle power is drawn while busy too).
  Joules idle_energy(Seconds elapsed) const { return chip_.power.idle * elapsed; }
  Joules energy(Seconds elapsed) const { return dynamic_energy() + idle_energy(elapsed); }

 private:
  int index_;
  const ChipSpec& chip_;
  ModelContext& sim_;
  std::string label_;
  std::unique_ptr<ResourceArbiter> arbiter_;
  std::vector<std::unique_ptr<MemoryTier>> tiers_;
  std::vector<std::unique_ptr<ComputeCore>> streams_;
  std::vector<std::unique_ptr<NetworkPort>> ports_;
  std::vector<int> port_link_;  // link id of each port
  SimTime down_since_ = 0;
};

}  // namespace llmsim
