#include "models/memory_tier.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "models/tier_model_tlm.h"
#include "sim/core/error.h"
#include "models/model_context.h"
#include "sim/ops/energy.h"

namespace llmsim {

MemoryTier::MemoryTier(const sc_core::sc_module_name& name, const ChipSpec& chip, const MemoryTierSpec& spec,
                       ModelContext& sim, const std::string& device_name, ResourceArbiter& arbiter)
    : sc_core::sc_module(name), socket("socket"), spec_(spec), sim_(sim), device_name_(device_name), arbiter_(arbiter),
      pj_per_byte_(tier_pj_per_byte(chip, spec)) {
  socket.bind(*this);
  make_model();
  sustained_ = model_->bandwidth(AccessPattern{});
  latency_ = model_->latency(AccessPattern{});
  resource_ = arbiter_.add_tier(spec.tier, sustained_);
  arbiter_.set_tier_model(resource_, [m = model_.get()](const AccessPattern& p) { return m->bandwidth(p); });
  // ComputeCore::demands relies on arbiter tier i being chip.memory[i - 1].
  if (&chip.memory.at(static_cast<std::size_t>(resource_ - 1)) != &spec)
    throw std::logic_error(device_name + ": tiers must be added in catalog order");
}

// A registered TierModel, or (model tlm) the plugged-in target built as this tier's child
// "target", bound to an initiator socket of ours and measured by probing.
void MemoryTier::make_model() {
  const std::string what = device_name_ + " " + spec_.tier;
  if (spec_.model != "tlm") {
    model_ = TierModelRegistry::make(spec_.model, spec_);
    if (!model_) throw std::invalid_argument(what + ": unknown tier model '" + spec_.model + "'");
    return;
  }
  const TlmTargetRegistry::Factory* make = TlmTargetRegistry::find(spec_.target);
  if (!make) throw std::invalid_argument(what + ": unknown TLM target '" + spec_.target + "'");
  target_module_ = (*make)("target", spec_);
  tlm::tlm_base_target_socket_b<>* target = target_module_ ? find_target_socket(*target_module_) : nullptr;
  if (!target)
    throw std::invalid_argument(what + ": TLM target '" + spec_.target + "' has no 32-bit tlm_target_socket");
  to_target_ = std::make_unique<tlm_utils::simple_initiator_socket_optional<MemoryTier>>("to_target");
  to_target_->bind(*target);
  target_fw_ = &target->get_base_interface();
  Bytes span = spec_.capacity > 0 ? spec_.capacity : Bytes{1024.0 * 1024 * 1024};
  model_ = std::make_unique<TlmTierModel>(*target_fw_, span, what + " (TLM target '" + spec_.target + "')");
}

void MemoryTier::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
  if (target_fw_) {
    target_fw_->b_transport(t, delay);
    return;
  }
  AccessPattern p;
  bool first;
  if (const auto* e = t.get_extension<AccessPatternExtension>()) {
    p = e->pattern;
    first = e->first;
  } else {
    first = !seen_payload_;
    if (t.get_address() != next_address_) p.kind = AccessPattern::Kind::Random;
    p.granule = t.get_data_length();
    p.read_fraction = t.is_write() ? 0.0 : 1.0;
  }
  seen_payload_ = true;
  next_address_ = t.get_address() + t.get_data_length();
  Seconds d = t.get_data_length() / model_->bandwidth(p) + (first ? model_->latency(p) : Seconds{0});
  delay += sc_core::sc_time(d, sc_core::SC_SEC);
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

tlm::tlm_sync_enum MemoryTier::nb_transport_fw(tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                               sc_core::sc_time& delay) {
  if (phase != tlm::BEGIN_REQ) return tlm::TLM_COMPLETED;
  b_transport(t, delay);
  phase = tlm::BEGIN_RESP;
  return tlm::TLM_COMPLETED;
}

int MemoryTier::track() {
  if (track_ < 0) track_ = sim_.recorder().track(device_name_, spec_.tier, 1);
  return track_;
}

Bytes MemoryTier::region(const std::string& name) const {
  auto it = regions_.find(name);
  return it == regions_.end() ? Bytes{0} : it->second;
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
  used_ = std::max(Bytes{0}, used_ - b);
  trace_occupancy();
}

void MemoryTier::trace_occupancy() {
  if (sim_.recorder().on()) sim_.recorder().counter(track(), "occupancy_bytes", sim_.now(), used_);
}

void MemoryTier::transfer(Bytes bytes, std::function<void()> done, const AccessPattern& pattern) {
  if (bytes <= 0) {
    sim_.queue().after(0, std::move(done));
    return;
  }
  bytes_moved_ += bytes;
  energy_ += Joules{bytes * pj_per_byte_ * 1e-12};
  ++active_;
  const bool plain = pattern.is_default();
  SimTime lat = to_simtime(plain ? latency_ : model_->latency(pattern));
  const double work = plain ? bytes.value() : arbiter_.tier_work(resource_, bytes, pattern);
  // Energy is per byte moved, whatever the pattern scaled the arbiter's work to.
  const double joules_per_work = work > 0 ? bytes.value() * pj_per_byte_ * 1e-12 / work : 0.0;
  if (lat == 0) {
    start_stream(std::move(done), work, joules_per_work);
  } else {
    sim_.queue().after(lat, [this, work, joules_per_work, d = std::move(done)]() mutable {
      start_stream(std::move(d), work, joules_per_work);
    });
  }
}

namespace {
constexpr double kUnlimitedRate = std::numeric_limits<double>::infinity();
}  // namespace

// `work`: the arbiter's measure of the stream (bytes, scaled for a non-sequential pattern).
void MemoryTier::start_stream(std::function<void()> done, double work, double joules_per_work) {
  if (sim_.recorder().on()) sim_.recorder().counter(track(), "streams", sim_.now(), active_streams());
  arbiter_.start({ResourceDemand{resource_, work, kUnlimitedRate, joules_per_work}}, [this, d = std::move(done)] {
    --active_;
    if (sim_.recorder().on()) sim_.recorder().counter(track(), "streams", sim_.now(), active_streams());
    if (d) d();
  });
}

}  // namespace llmsim
