// One memory tier of a device (sram | hbm | ddr | lpddr | gddr): capacity accounting by
// named region, and a bandwidth shared equally by concurrent transfers (recomputed when a
// stream starts or ends), each starting after the tier's access latency.
#pragma once
#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/spec/chip.h"

namespace llmsim {

class Simulation;

class MemoryTier : public sc_core::sc_module {
 public:
  MemoryTier(const sc_core::sc_module_name& name, const ChipSpec& chip, const MemoryTierSpec& spec,
             Simulation& sim, const std::string& device_name);

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
  int active_streams() const { return static_cast<int>(streams_.size()); }
  Bytes bytes_moved() const { return bytes_moved_; }
  Joules energy() const { return energy_; }
  BytesPerSecond sustained_bandwidth() const { return spec_.bandwidth * spec_.efficiency; }

 private:
  struct Stream {
    double remaining;
    std::function<void()> done;
  };
  void start_stream(Bytes bytes, std::function<void()> done);
  void advance();      // drain every stream by its share since the last update
  void reschedule();   // schedule the next completion (stale events are ignored)
  void on_event(std::uint64_t gen);
  void trace_occupancy();
  int track();

  const ChipSpec& chip_;
  MemoryTierSpec spec_;
  Simulation& sim_;
  std::string device_name_;
  std::map<std::string, Bytes> regions_;
  Bytes used_ = 0, peak_used_ = 0;
  std::vector<Stream> streams_;
  SimTime last_update_ = 0;
  std::uint64_t generation_ = 0;
  Bytes bytes_moved_ = 0;
  Joules energy_ = 0;
  double pj_per_byte_ = 0;
  int track_ = -1;
};

}  // namespace llmsim
