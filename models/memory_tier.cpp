#include "models/memory_tier.h"

#include <algorithm>
#include <stdexcept>

#include "sim/core/error.h"
#include "sim/engine/simulation.h"
#include "sim/ops/energy.h"

namespace llmsim {

MemoryTier::MemoryTier(const sc_core::sc_module_name& name, const ChipSpec& chip, const MemoryTierSpec& spec,
                       Simulation& sim, const std::string& device_name, ResourceArbiter& arbiter)
    : sc_core::sc_module(name), chip_(chip), spec_(spec), sim_(sim), device_name_(device_name),
      arbiter_(arbiter), pj_per_byte_(tier_pj_per_byte(chip, spec)) {
  model_ = TierModelRegistry::make(spec.model, spec);
  if (!model_) throw std::invalid_argument(device_name + " " + spec.tier + ": unknown tier model '" + spec.model + "'");
  sustained_ = model_->bandwidth(AccessPattern{});
  latency_ = model_->latency(AccessPattern{});
  resource_ = arbiter_.add_tier(spec.tier, sustained_);
  // ComputeCore::demands relies on arbiter tier i being chip.memory[i - 1].
  if (&chip.memory.at(static_cast<std::size_t>(resource_ - 1)) != &spec)
    throw std::logic_error(device_name + ": tiers must be added in catalog order");
}

int MemoryTier::track() {
  if (track_ < 0) track_ = sim_.recorder().track(device_name_, spec_.tier, 1);
  return track_;
}

Bytes MemoryTier::region(const std::string& name) const {
  auto it = regions_.find(name);
  return it == regions_.end() ? 0 : it->second;
}

void MemoryTier::allocate(const std::string& region, Bytes bytes) {
  if (bytes <= 0) return;
  if (used_ + bytes > spec_.capacity) {
    std::string placed;
    for (const auto& kv : regions_) {
      if (kv.second <= 0) continue;
      placed += (placed.empty() ? "" : ", ") + kv.first + " " + format_quantity(kv.second, Dim::Size);
    }
    throw InfeasibleError(region + ": needs " + format_quantity(used_ + bytes - spec_.capacity, Dim::Size) +
                          " more than the " + format_quantity(spec_.capacity, Dim::Size) + " " + spec_.tier +
                          " of " + device_name_ + " holds (" + (placed.empty() ? "nothing" : placed) +
                          " already placed)");
  }
  regions_[region] += bytes;
  used_ += bytes;
  peak_used_ = std::max(peak_used_, used_);
  trace_occupancy();
}

void MemoryTier::release(const std::string& region, Bytes bytes) {
  auto it = regions_.find(region);
  if (it == regions_.end()) return;
  Bytes b = bytes < 0 ? it->second : std::min(bytes, it->second);
  it->second -= b;
  used_ = std::max(0.0, used_ - b);
  trace_occupancy();
}

void MemoryTier::trace_occupancy() {
  if (sim_.recorder().on()) sim_.recorder().counter(track(), "occupancy_bytes", sim_.now(), used_);
}

void MemoryTier::transfer(Bytes bytes, std::function<void()> done) {
  if (bytes <= 0) {
    sim_.queue().after(0, std::move(done));
    return;
  }
  bytes_moved_ += bytes;
  energy_ += bytes * pj_per_byte_ * 1e-12;
  ++active_;
  SimTime lat = to_simtime(latency_);
  if (lat == 0) {
    start_stream(bytes, std::move(done));
  } else {
    sim_.queue().after(lat, [this, bytes, d = std::move(done)]() mutable { start_stream(bytes, std::move(d)); });
  }
}

namespace {
constexpr double kUnlimitedRate = std::numeric_limits<double>::infinity();
}  // namespace

void MemoryTier::start_stream(Bytes bytes, std::function<void()> done) {
  if (sim_.recorder().on()) sim_.recorder().counter(track(), "streams", sim_.now(), active_streams());
  arbiter_.start({ResourceDemand{resource_, bytes, kUnlimitedRate, pj_per_byte_ * 1e-12}}, [this, d = std::move(done)] {
    --active_;
    if (sim_.recorder().on()) sim_.recorder().counter(track(), "streams", sim_.now(), active_streams());
    if (d) d();
  });
}

}  // namespace llmsim
