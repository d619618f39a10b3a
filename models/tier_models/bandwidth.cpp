// "bandwidth": the default tier model. A sequential stream runs at the catalog's sustained
// figure, peak x efficiency, after the catalog's latency: exactly what sim/ops/op.cpp has
// always charged (memory time = bytes / (bandwidth x efficiency)), so a chip without
// `model:` simulates its ops as before. Other patterns run at that figure times the tier's
// declared factor (`paged_efficiency` for KV blocks, `random_efficiency` for scattered
// reads; chip_params.cpp): one multiplication, no timing detail. The "dram" model
// (dram_channel.cpp) is the one that derives the difference from DRAM timing.
#include "models/tier_model.h"
#include "sim/spec/chip.h"

namespace llmsim {
namespace {

class BandwidthTierModel : public TierModel {
 public:
  explicit BandwidthTierModel(const MemoryTierSpec& s)
      : sustained_(s.bandwidth * s.efficiency), paged_(s.paged_efficiency), random_(s.random_efficiency),
        latency_(s.latency) {}
  BytesPerSecond bandwidth(const AccessPattern& p) const override {
    switch (p.kind) {
      case AccessPattern::Kind::Paged: return sustained_ * paged_;
      case AccessPattern::Kind::Random: return sustained_ * random_;
      case AccessPattern::Kind::Sequential: break;
    }
    return sustained_;
  }
  Seconds latency(const AccessPattern&) const override { return latency_; }
  std::string name() const override { return "bandwidth"; }

 private:
  BytesPerSecond sustained_;
  double paged_, random_;
  Seconds latency_;
};

LLMSIM_REGISTER_TIER_MODEL(BandwidthTierModel, "bandwidth");

}  // namespace
}  // namespace llmsim
