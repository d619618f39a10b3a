// One memory tier of a device (sram | hbm | ddr | lpddr | gddr): capacity accounting by
// named region, and transfers that stream through the tier after its access latency. The
// bandwidth itself is the device's ResourceArbiter's: kernels, copies and collective
// kernels on the same device share it max-min fair.
#pragma once
#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/spec/chip.h"
#include "models/resource_arbiter.h"
#include "models/tier_model.h"

namespace llmsim {

class ModelContext;

class MemoryTier : public sc_core::sc_module {
 public:
  MemoryTier(const sc_core::sc_module_name& name, const ChipSpec& chip, const MemoryTierSpec& spec,
             ModelContext& sim, const std::string& device_name, ResourceArbiter& arbiter);

  const MemoryTierSpec& spec() const { return spec_; }

  // Capacity. Regions: weights, kv_cache, activations, optimizer (any name is accepted).
  // allocate adds to a region; throws InfeasibleError naming the region, the shortfall,
  // this tier and device, and what is already placed.
  void allocate(const std::string& region, Bytes bytes);
  // Releases `bytes` of a region (all of it when bytes < 0). Never goes below zero.
  void release(const std::string& region, Bytes bytes = -1);
  Bytes used() const { return used_; }
  Bytes available() const { return spec_.capacity - used_; }
  Bytes region(const std::string& name) const;
  Bytes peak_used() const { return peak_used_; }

  // Streams `bytes` through this tier; `done` runs when the last byte has moved.
  void transfer(Bytes bytes, std::function<void()> done);
  // Transfers of this tier's own (transfer()) that have not finished.
  int active_streams() const { return active_; }
  int resource() const { return resource_; }  // index in the device's arbiter
  Bytes bytes_moved() const { return bytes_moved_; }
  Joules energy() const { return energy_; }
  // What the tier's timing model (`model:`, models/tier_model.h) sustains on a long
  // sequential stream: the capacity the device arbiter shares.
  BytesPerSecond sustained_bandwidth() const { return sustained_; }
  const TierModel& model() const { return *model_; }

 private:
  void start_stream(Bytes bytes, std::function<void()> done);
  void trace_occupancy();
  int track();

  const ChipSpec& chip_;
  MemoryTierSpec spec_;
  ModelContext& sim_;
  std::string device_name_;
  std::map<std::string, Bytes> regions_;
  Bytes used_ = 0, peak_used_ = 0;
  ResourceArbiter& arbiter_;
  std::unique_ptr<TierModel> model_;
  BytesPerSecond sustained_ = 0;
  Seconds latency_ = 0;
  int resource_ = -1;
  int active_ = 0;
  Bytes bytes_moved_ = 0;
  Joules energy_ = 0;
  double pj_per_byte_ = 0;
  int track_ = -1;
};

}  // namespace llmsim
