// Memory tier timing models (models/tier_model.h, models/tier_models/): the default
// "bandwidth" model reproduces the catalog's sustained figure; the "dram" model streams at
// about that figure and serves random 64-byte accesses at the rate the JEDEC timings allow;
// chip files pick a model with `model:` and tune it with `dram:`, with positioned errors.
#include <catch2/catch.hpp>

#include "dram_expect.h"
#include "mini_chip.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/tier_model.h"
#include "models/tier_models/dram_channel.h"
#include "sim/core/units.h"
#include "sim/spec/chip.h"

namespace test_tier_models {

using namespace llmsim;

namespace {

AccessPattern seq(Bytes granule = 64) {
  AccessPattern a;
  a.kind = AccessPattern::Kind::Sequential;
  a.granule = granule;
  return a;
}

AccessPattern rnd(Bytes granule) {
  AccessPattern a;
  a.kind = AccessPattern::Kind::Random;
  a.granule = granule;
  return a;
}

const MemoryTierSpec& catalog_tier(const std::string& chip, const std::string& tier) {
  static ChipCatalog cat(default_catalog_dir());
  const MemoryTierSpec* t = cat.get(chip).tier(tier);
  REQUIRE(t != nullptr);
  return *t;
}

using llmsim_test::expected_random;

const std::string& kMiniChip = llmsim_test::kMiniChipHead;  // line 9: the tier under test

InputError load_error(const std::string& tier_line) {
  try {
    load_chip(parse_doc(kMiniChip + tier_line + "\n", "chip.yaml"));
  } catch (const InputError& e) {
    return e;
  }
  FAIL("expected an InputError for: " << tier_line);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("tier_model: the registry lists both models, in name order", "[tier_model]") {
  std::vector<std::string> n = TierModelRegistry::names();
  CHECK(std::find(n.begin(), n.end(), "bandwidth") != n.end());
  CHECK(std::find(n.begin(), n.end(), "dram") != n.end());
  CHECK(std::is_sorted(n.begin(), n.end()));
  MemoryTierSpec s;
  s.tier = "hbm";
  s.bandwidth = 1e12;
  CHECK(TierModelRegistry::make("bandwidth", s)->name() == "bandwidth");
  CHECK(TierModelRegistry::make("dram", s)->name() == "dram");
  CHECK(TierModelRegistry::make("no-such-model", s) == nullptr);
}

TEST_CASE("tier_model: bandwidth model is peak x efficiency for every pattern", "[tier_model]") {
  const MemoryTierSpec& hbm = catalog_tier("nvidia-h100-sxm", "hbm");
  auto m = TierModelRegistry::make("bandwidth", hbm);
  for (const AccessPattern& a : {seq(64), seq(4096), rnd(64), rnd(1 << 20)}) {
    CHECK(m->bandwidth(a) == hbm.bandwidth * hbm.efficiency);  // exactly what sim/ops charges
    CHECK(m->latency(a) == hbm.latency);
  }
  CHECK(m->bandwidth(seq()) == Approx(3.35e12 * 0.90));
}

TEST_CASE("tier_model: JEDEC default sets have the standard's geometry", "[tier_model]") {
  DramParams h = hbm3_params();  // JESD238: 32-bit pseudo-channel, BL8, 6.4 Gb/s
  CHECK(h.burst_bytes() == 32);
  CHECK(h.channel_peak() == Approx(25.6e9));
  CHECK(h.tBURST() == Approx(1.25e-9));
  DramParams d = ddr5_params();  // JESD79-5: 32-bit sub-channel, BL16, DDR5-4800
  CHECK(d.burst_bytes() == 64);
  CHECK(d.channel_peak() == Approx(19.2e9));
  CHECK(d.tBURST() == Approx(3.333e-9).epsilon(1e-3));
}

TEST_CASE("tier_model: dram channels add up to the catalog peak", "[tier_model]") {
  DramTierModel hbm(catalog_tier("nvidia-h100-sxm", "hbm"));
  CHECK(hbm.params().standard == "HBM3");
  CHECK(hbm.params().channels == 131);  // 3.35 TB/s / 25.6 GB/s = 130.9
  CHECK(hbm.params().peak() == Approx(3.35e12));
  DramTierModel ddr(catalog_tier("sambanova-sn40l", "ddr"));
  CHECK(ddr.params().standard == "DDR5");
  CHECK(ddr.params().channels == 5);  // 100 GB/s / 19.2 GB/s = 5.2
  CHECK(ddr.params().peak() == Approx(100e9));
}

TEST_CASE("tier_model: dram streams sequential reads at the bandwidth model's rate", "[tier_model]") {
  // Within 10 %: the catalog's 0.90 efficiency is H100's measured copy rate (C2); the DRAM
  // model loses ~9 % to refresh and hides row switches behind other banks.
  for (auto [chip, tier] : {std::pair<std::string, std::string>{"nvidia-h100-sxm", "hbm"},
                            {"sambanova-sn40l", "ddr"},
                            {"sambanova-sn40l", "hbm"}}) {
    INFO(chip << " " << tier);
    const MemoryTierSpec& t = catalog_tier(chip, tier);
    auto dram = TierModelRegistry::make("dram", t);
    auto bw = TierModelRegistry::make("bandwidth", t);
    CHECK(dram->bandwidth(seq(64)) == Approx(bw->bandwidth(seq(64))).epsilon(0.10));
    CHECK(dram->bandwidth(seq(4096)) == Approx(bw->bandwidth(seq(4096))).epsilon(0.10));
  }
}

TEST_CASE("tier_model: without refresh a sequential stream reaches the peak", "[tier_model]") {
  // Row switches overlap with transfers from other banks (open page, 16+ banks), so the
  // only loss left is the first access of the sample. tREFI 0 turns refresh off.
  MemoryTierSpec t = catalog_tier("nvidia-h100-sxm", "hbm");
  t.dram["tREFI"] = 0;
  DramTierModel m(t);
  CHECK(m.bandwidth(seq(64)) == Approx(3.35e12).epsilon(0.01));
}

TEST_CASE("tier_model: random 64-byte reads run at the rate the timing parameters predict",
          "[tier_model]") {
  for (auto [chip, tier] : {std::pair<std::string, std::string>{"nvidia-h100-sxm", "hbm"},
                            {"sambanova-sn40l", "ddr"}}) {
    INFO(chip << " " << tier);
    const MemoryTierSpec& t = catalog_tier(chip, tier);
    DramTierModel m(t);
    BytesPerSecond r = m.bandwidth(rnd(64));
    CHECK(r < m.bandwidth(seq(64)));
    CHECK(r == Approx(expected_random(t, m.params(), 64)).epsilon(0.15));
    // Half the granule, same activates: half the useful bandwidth (32 B is one HBM3 burst,
    // half a DDR5 one).
    CHECK(m.bandwidth(rnd(32)) == Approx(expected_random(t, m.params(), 32)).epsilon(0.15));
  }
  // HBM3 at 64 B is activate-bound (tFAW 16 ns: 4 ACTs per 6.4 bursts' time): well under
  // the stream rate.
  DramTierModel h100(catalog_tier("nvidia-h100-sxm", "hbm"));
  CHECK(h100.bandwidth(rnd(64)) < 0.7 * h100.bandwidth(seq(64)));
}

TEST_CASE("tier_model: dram latency is a closed-bank access, results are cached and deterministic",
          "[tier_model]") {
  const MemoryTierSpec& t = catalog_tier("nvidia-h100-sxm", "hbm");
  DramTierModel a(t), b(t);
  const DramParams& p = a.params();
  // The catalog's whole-path latency (controller, on-chip network) bounds it from below.
  CHECK(a.latency(rnd(64)) == Approx(std::max(t.latency, p.tRCD + p.tCL + 2 * p.tBURST())));
  MemoryTierSpec bare = t;
  bare.latency = 0;
  CHECK(DramTierModel(bare).latency(rnd(64)) == Approx(14e-9 + 14e-9 + 2 * 32 / (3.35e12 / 131)));
  CHECK(a.bandwidth(rnd(64)) == b.bandwidth(rnd(64)));
  CHECK(a.bandwidth(rnd(64)) == a.bandwidth(rnd(64)));
  AccessPattern mixed = seq(64);
  mixed.read_fraction = 0.5;  // bus turnarounds (tWTR) cost something
  CHECK(a.bandwidth(mixed) < a.bandwidth(seq(64)));
}

TEST_CASE("tier_model: chip files choose a model and override DRAM timings", "[tier_model]") {
  ChipSpec c = load_chip(parse_doc(kMiniChip +
                                       "  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s, model: dram,"
                                       " dram: {tRCD: 20 ns, tFAW: 30 ns}}\n",
                                   "chip.yaml"));
  const MemoryTierSpec& t = c.memory.at(0);
  CHECK(t.model == "dram");
  CHECK(t.dram.at("tRCD") == Approx(20e-9));
  DramTierModel m(t);
  CHECK(m.params().tRCD == Approx(20e-9));
  CHECK(m.params().tFAW == Approx(30e-9));
  CHECK(m.params().tRP == hbm3_params().tRP);
  ChipSpec d = load_chip(parse_doc(kMiniChip + "  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s}\n", "chip.yaml"));
  CHECK(d.memory.at(0).model == "bandwidth");
}

TEST_CASE("tier_model: a bad model or timing name is a positioned error", "[tier_model]") {
  SECTION("unknown model: at its value, listing the registered ones") {
    InputError e = load_error("  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s, model: drum}");
    CHECK(e.pos().file == "chip.yaml");
    CHECK(e.pos().line == 9);
    CHECK(e.pos().col == 59);  // "drum"
    std::string msg = e.located();
    CHECK(msg.find("chip.yaml:9:59: ") == 0);
    CHECK(msg.find("unknown tier model 'drum'") != std::string::npos);
    CHECK(msg.find("did you mean 'dram'") != std::string::npos);
    CHECK(msg.find("registered: bandwidth, dram") != std::string::npos);
  }
  SECTION("unknown timing parameter: at its key") {
    InputError e = load_error("  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s, model: dram, dram: {tRCE: 1 ns}}");
    CHECK(e.pos().line == 9);
    CHECK(e.pos().col == 72);  // "tRCE"
    CHECK(std::string(e.what()).find("unknown timing parameter 'tRCE' (did you mean 'tRCD'?)") != std::string::npos);
  }
  SECTION("timing without a unit, negative, or without model dram") {
    CHECK(load_error("  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s, model: dram, dram: {tRCD: 14}}").pos().line == 9);
    CHECK(std::string(load_error("  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s, model: dram, dram: {tRP: -1 ns}}")
                          .what())
              .find("must be >= 0") != std::string::npos);
    CHECK(std::string(load_error("  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s, dram: {tRP: 1 ns}}").what())
              .find("only to `model: dram`") != std::string::npos);
  }
}

}  // namespace test_tier_models
