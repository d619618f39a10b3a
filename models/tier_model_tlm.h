// The TLM-2.0 face of a memory tier (issue 10). Every MemoryTier is a loosely-timed TLM-2.0
// target (its `socket`); behind it either a shipped TierModel answers each payload, or, with
// `model: tlm`, a third-party target module does (TlmTargetRegistry, models/tier_model.h).
//
// The device arbiter shares a tier's sustained bandwidth fluidly (one event per kernel
// start/end, never one per transaction), so an opaque TLM target is characterised once per
// access pattern by a probe, and its answer cached. The probe contract (docs/models.md):
//  - Targets are loosely timed: b_transport returns without wait(), adding to the annotated
//    delay the time the transaction OCCUPIES the target (its throughput cost); the first
//    transaction of a stream may add an access latency on top.
//  - The probe issues kProbeTransactions transactions of the pattern's granule, one after
//    another as a temporally decoupled initiator does: each is issued with the delay
//    annotated so far (sc_time_stamp() + delay is when it starts, for a target that keeps
//    state in time). Sequential: consecutive addresses from 0; random: granule-aligned
//    addresses drawn deterministically over the tier's capacity. Reads and writes are
//    spread evenly over transactions 2..N by the pattern's read fraction (the first is of
//    the second's kind). Each carries an AccessPatternExtension (`first` on the first).
//  - bandwidth(pattern) = (N - 1) x granule / (sum of the delays of transactions 2..N);
//    latency(pattern) = the first transaction's delay less the mean of the others.
//  - A target with internal state sees the probe's transactions first (at elaboration for
//    the sequential pattern, at the first op using any other pattern), then payloads sent
//    to the tier's socket at run time.
#pragma once
#include <systemc>
#include <tlm>

#include <map>
#include <string>
#include <tuple>

#include "models/tier_model.h"

namespace llmsim {

// The pattern a payload belongs to, and whether it opens its stream (pays the latency).
// Payloads without it are classified by the tier from their addresses.
struct AccessPatternExtension : tlm::tlm_extension<AccessPatternExtension> {
  AccessPattern pattern;
  bool first = false;
  tlm::tlm_extension_base* clone() const override { return new AccessPatternExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& e) override {
    *this = static_cast<const AccessPatternExtension&>(e);
  }
};

// One opening transaction (it may pay a latency) and 64 measured ones: a read fraction in
// 64ths spreads over the measured ones exactly.
constexpr int kProbeTransactions = 1 + 64;

// What the probe measured: the first transaction's delay and the sum of the others'.
struct TlmProbe {
  Seconds first = 0, rest = 0;
  int transactions = 0;
  Bytes granule = 0;
  BytesPerSecond bandwidth() const { return (transactions - 1) * granule / rest; }
  Seconds latency() const;
};

// Runs the probe against `target` (throws std::runtime_error naming `what` if the target
// waits, answers an error status, or annotates no time). `span`: random addresses range.
TlmProbe probe_tlm_target(tlm::tlm_fw_transport_if<>& target, const AccessPattern& pattern, Bytes span,
                          const std::string& what);

// The TierModel of a tier whose target is a plugged-in TLM module: probe results, cached.
class TlmTierModel : public TierModel {
 public:
  TlmTierModel(tlm::tlm_fw_transport_if<>& target, Bytes span, std::string what)
      : target_(target), span_(span), what_(std::move(what)) {}
  BytesPerSecond bandwidth(const AccessPattern& p) const override { return probe(p).bandwidth(); }
  Seconds latency(const AccessPattern& p) const override { return probe(p).latency(); }
  std::string name() const override { return "tlm"; }

 private:
  const TlmProbe& probe(const AccessPattern& p) const;
  tlm::tlm_fw_transport_if<>& target_;
  Bytes span_;
  std::string what_;
  mutable std::map<std::tuple<int, double, double>, TlmProbe> cache_;
};

// The first 32-bit base-protocol target socket among `m`'s children; nullptr if none.
tlm::tlm_base_target_socket_b<>* find_target_socket(sc_core::sc_module& m);

}  // namespace llmsim
