#include "models/memory_tier.h"

#include <algorithm>

#include "sim/core/error.h"
#include "sim/engine/simulation.h"
#include "sim/ops/energy.h"

namespace llmsim {

namespace {
// A stream with fewer bytes left than this is complete (float residue of the shares).
constexpr double kByteEpsilon = 1e-3;
}  // namespace

MemoryTier::MemoryTier(const sc_core::sc_module_name& name, const ChipSpec& chip, const MemoryTierSpec& spec,
                       Simulation& sim, const std::string& device_name)
    : sc_core::sc_module(name), chip_(chip), spec_(spec), sim_(sim), device_name_(device_name),
      pj_per_byte_(tier_pj_per_byte(chip, spec)) {}

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
  SimTime lat = to_simtime(spec_.latency);
  if (lat == 0) {
    start_stream(bytes, std::move(done));
  } else {
    sim_.queue().after(lat, [this, bytes, d = std::move(done)]() mutable { start_stream(bytes, std::move(d)); });
  }
}

void MemoryTier::start_stream(Bytes bytes, std::function<void()> done) {
  advance();
  streams_.push_back(Stream{bytes, std::move(done)});
  if (sim_.recorder().on()) sim_.recorder().counter(track(), "streams", sim_.now(), active_streams());
  reschedule();
}

void MemoryTier::advance() {
  SimTime now = sim_.now();
  if (!streams_.empty() && now > last_update_) {
    double share = sustained_bandwidth() / static_cast<double>(streams_.size());
    double moved = share * to_seconds(now - last_update_);
    for (auto& s : streams_) s.remaining -= moved;
  }
  last_update_ = now;
}

void MemoryTier::reschedule() {
  ++generation_;
  if (streams_.empty()) return;
  double least = streams_.front().remaining;
  for (const auto& s : streams_) least = std::min(least, s.remaining);
  double share = sustained_bandwidth() / static_cast<double>(streams_.size());
  // Round up so the stream is drained when the event fires.
  SimTime dt = static_cast<SimTime>(std::max(0.0, least) / share * 1e12) + 1;
  std::uint64_t gen = generation_;
  sim_.queue().after(dt, [this, gen] { on_event(gen); });
}

void MemoryTier::on_event(std::uint64_t gen) {
  if (gen != generation_) return;  // superseded by a later start
  advance();
  std::vector<std::function<void()>> finished;
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->remaining <= kByteEpsilon) {
      finished.push_back(std::move(it->done));
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
  if (sim_.recorder().on()) sim_.recorder().counter(track(), "streams", sim_.now(), active_streams());
  reschedule();
  for (auto& f : finished) if (f) f();
}

}  // namespace llmsim
