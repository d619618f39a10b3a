// "bandwidth": the default tier model. Every access pattern streams at the catalog's
// sustained figure, peak x efficiency, after the catalog's latency: exactly what
// sim/ops/op.cpp has always charged (memory time = bytes / (bandwidth x efficiency)), so a
// chip without `model:` simulates as before. Fast and pattern-blind by design; the "dram"
// model (dram_channel.cpp) is the one that tells sequential from random.
#include "models/tier_model.h"
#include "sim/spec/chip.h"

namespace llmsim {
namespace {

class BandwidthTierModel : public TierModel {
 public:
  explicit BandwidthTierModel(const MemoryTierSpec& s)
      : sustained_(s.bandwidth * s.efficiency), latency_(s.latency) {}
  BytesPerSecond bandwidth(const AccessPattern&) const override { return sustained_; }
  Seconds latency(const AccessPattern&) const override { return latency_; }
  std::string name() const override { return "bandwidth"; }

 private:
  BytesPerSecond sustained_;
  Seconds latency_;
};

LLMSIM_REGISTER_TIER_MODEL(BandwidthTierModel, "bandwidth");

}  // namespace
}  // namespace llmsim
