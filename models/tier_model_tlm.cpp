// The probe behind `model: tlm` (models/tier_model_tlm.h has the contract) and the TLM
// target registry.
#include "models/tier_model_tlm.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <vector>

#include "sim/core/hash.h"
#include "sim/spec/tier_model_names.h"

namespace llmsim {
namespace {

std::map<std::string, TlmTargetRegistry::Factory>& targets() {
  static std::map<std::string, TlmTargetRegistry::Factory> t;  // first use: see tier_model.cpp
  return t;
}

// Transaction i's address: consecutive granules, or a deterministic random granule slot.
std::uint64_t probe_address(const AccessPattern& p, int i, Bytes span, std::uint64_t& rng) {
  auto g = static_cast<std::uint64_t>(p.granule);
  if (p.kind == AccessPattern::Kind::Sequential) return static_cast<std::uint64_t>(i) * g;
  auto slots = static_cast<std::uint64_t>(std::max(1.0, std::floor(span / p.granule)));
  rng = splitmix64(rng);
  return (rng % slots) * g;
}

// Writes spread evenly over the measured transactions (1..N-1): measured transaction j is
// a write when the running write count steps. The opening one copies the first measured.
bool probe_is_write(const AccessPattern& p, int i) {
  double w = 1.0 - std::clamp(p.read_fraction, 0.0, 1.0);
  int j = std::max(0, i - 1);
  return std::floor((j + 1) * w + 1e-9) > std::floor(j * w + 1e-9);
}

}  // namespace

bool TlmTargetRegistry::add(const std::string& name, Factory f) {
  targets()[name] = std::move(f);
  return TierModelNames::add_target(name);  // for the chip loader (sim/spec/chip.cpp)
}

// `model: tlm` is not a TierModel (the tier probes the target) but the loader accepts it.
static const bool llmsim_tlm_model_name = TierModelNames::add("tlm");

const TlmTargetRegistry::Factory* TlmTargetRegistry::find(const std::string& name) {
  auto it = targets().find(name);
  return it == targets().end() ? nullptr : &it->second;
}

std::vector<std::string> TlmTargetRegistry::names() {
  std::vector<std::string> n;
  for (const auto& kv : targets()) n.push_back(kv.first);
  return n;
}

Seconds TlmProbe::latency() const { return std::max(Seconds{0}, first - rest / std::max(1, transactions - 1)); }

TlmProbe probe_tlm_target(tlm::tlm_fw_transport_if<>& target, const AccessPattern& pattern, Bytes span,
                          const std::string& what) {
  TlmProbe pr;
  pr.transactions = kProbeTransactions;
  pr.granule = std::max<Bytes>(1, std::round(pattern.granule));
  AccessPattern p = pattern;
  p.granule = pr.granule;
  const auto len = static_cast<unsigned int>(pr.granule);
  std::vector<unsigned char> data(len, 0);
  AccessPatternExtension ext;
  ext.pattern = p;
  tlm::tlm_generic_payload t;
  t.set_extension(&ext);
  std::uint64_t rng = 1;
  sc_core::sc_time offset = sc_core::SC_ZERO_TIME;
  for (int i = 0; i < pr.transactions; ++i) {
    t.set_command(probe_is_write(p, i) ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    t.set_address(probe_address(p, i, span, rng));
    t.set_data_ptr(data.data());
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_byte_enable_ptr(nullptr);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    ext.first = i == 0;
    sc_core::sc_time d = offset;
    try {
      target.b_transport(t, d);
    } catch (const sc_core::sc_report& e) {
      t.clear_extension(&ext);
      throw std::runtime_error(what + ": the TLM target must answer b_transport without waiting (loosely timed): " +
                               e.what());
    }
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) {
      t.clear_extension(&ext);
      throw std::runtime_error(what + ": the TLM target answered probe transaction " + std::to_string(i + 1) + " with " +
                               t.get_response_string());
    }
    if (d < offset) {  // sc_time is unsigned: the difference would wrap
      t.clear_extension(&ext);
      throw std::runtime_error(what + ": the TLM target decreased the annotated delay");
    }
    const Seconds took = (d - offset).to_seconds();
    (i == 0 ? pr.first : pr.rest) += took;
    offset = d;
  }
  t.clear_extension(&ext);
  if (!(pr.rest > 0))
    throw std::runtime_error(what + ": the TLM target annotated no delay; an LT tier target must annotate the time "
                                    "each transaction occupies it");
  return pr;
}

const TlmProbe& TlmTierModel::probe(const AccessPattern& p) const {
  auto key = std::make_tuple(static_cast<int>(p.kind), p.granule, p.read_fraction);
  auto it = cache_.find(key);
  if (it == cache_.end()) it = cache_.emplace(key, probe_tlm_target(target_, p, span_, what_)).first;
  return it->second;
}

tlm::tlm_base_target_socket_b<>* find_target_socket(sc_core::sc_module& m) {
  for (sc_core::sc_object* o : m.get_child_objects()) {
    if (auto* s = dynamic_cast<tlm::tlm_base_target_socket_b<>*>(o)) return s;
  }
  return nullptr;
}

}  // namespace llmsim
