// The tier-model seam from the outside (issue 10): a timing model registered by test code,
// selected by a tier's `model:`, times the bytes that ops stream through that tier on a
// device; and the shipped DRAM channel model, selected the same way, runs a copy within
// 10 % of the bandwidth model (test_tier_models.cpp checks the model itself).
#include <catch2/catch.hpp>

#include <string>

#include "models/device.h"
#include "models/tier_model.h"
#include "sim/engine/simulation.h"
#include "device_rig.h"

using namespace llmsim;

namespace {

// A plugged-in tier: 1 GB/s and 1 us for every access pattern.
class FixedTier : public TierModel {
 public:
  explicit FixedTier(const MemoryTierSpec&) {}
  BytesPerSecond bandwidth(const AccessPattern&) const override { return 1e9; }
  Seconds latency(const AccessPattern&) const override { return 1e-6; }
  std::string name() const override { return "test-fixed"; }
};
LLMSIM_REGISTER_TIER_MODEL(FixedTier, "test-fixed");

ChipSpec with_hbm_model(const std::string& model) {
  static ChipCatalog catalog(default_catalog_dir());
  ChipSpec chip = catalog.get("nvidia-h100-sxm");
  for (auto& t : chip.memory) if (t.tier == "hbm") t.model = model;
  return chip;
}

double copy_seconds(const ChipSpec& chip, Bytes bytes, const std::string& tag) {
  llmsim_test::DeviceRig r(chip, tag);
  Simulation& sim = r.sim;
  Device& dev = r.dev;
  Op c;
  c.kind = OpKind::Copy;
  c.bytes = bytes;
  c.from = c.to = "hbm";
  double end = 0;
  dev.stream("copy")->submit(c, [&](const OpCost&) { end = to_seconds(sim.now()); });
  sim.queue().run();
  return end;
}

}  // namespace

TEST_CASE("tier plug-in: a model registered by test code times a device's copies", "[tier_model][contention]") {
  const ChipSpec chip = with_hbm_model("test-fixed");
  Op c;
  c.kind = OpKind::Copy;
  c.bytes = 1e9;
  c.from = c.to = "hbm";
  const OpCost est = estimate_op(c, chip);
  // A same-tier copy reads and writes: 2 GB through the plugged-in 1 GB/s tier.
  const double t = copy_seconds(chip, 1e9, "plug0");
  CHECK(t == Approx(est.prologue + 2.0).epsilon(1e-9));
}

TEST_CASE("tier plug-in: the DRAM channel model, selected per tier, runs a copy near the bandwidth model",
          "[tier_model][contention]") {
  const double bw_model = copy_seconds(with_hbm_model("bandwidth"), 4e9, "plug1");
  const double dram = copy_seconds(with_hbm_model("dram"), 4e9, "plug2");
  CHECK(dram == Approx(bw_model).epsilon(0.10));
}
