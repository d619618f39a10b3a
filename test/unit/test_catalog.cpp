// The chip catalog (topologies/devices/*.yaml): every file loads, dense peaks agree with the
// microarchitecture, the sparse/platform traps are avoided, calibrated constants reproduce
// their CALIBRATION.md cases, and a broken chip file gives a positioned error.
#include <catch2/catch.hpp>

#include "mini_chip.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "sim/core/units.h"
#include "sim/spec/chip.h"

namespace test_catalog {

using namespace llmsim;

namespace {

const char* kCatalogDir = LLMSIM_SOURCE_DIR "/topologies/devices";

// The review's nine accelerators, in the paper's row order (seed Tables 1-3).
const std::vector<std::string> kReviewChips = {
    "nvidia-h100-sxm", "amd-mi300x",   "cerebras-wse2",   "google-tpu-v4",         "graphcore-gc200",
    "groq-lpu",        "intel-gaudi3", "sambanova-sn40l", "tenstorrent-grayskull-e150"};

// A published throughput cell as a number: "1,979 TFLOPS" -> 1.979e15, "10.5PFLOPS" -> 1.05e16.
double published_flops(const std::string& cell) {
  std::string s;
  for (char c : cell) if (c != ',') s += c;
  return parse_quantity(s, Dim::Flops);
}

// A minimal valid chip document; tests replace one line to break it.
const std::string kMiniChip = llmsim_test::kMiniChipHead +
                              "  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s}\n";  // line 9

std::string replace_line(const std::string& text, int line, const std::string& with) {
  std::string out;
  int n = 1;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string l = text.substr(start, end - start);
    out += (n == line ? with : l) + "\n";
    start = end + 1;
    ++n;
  }
  return out;
}

SourcePos error_pos(const std::string& text) {
  try {
    load_chip(parse_doc(text, "chip.yaml"));
  } catch (const InputError& e) {
    return e.pos();
  }
  FAIL("expected an InputError for:\n" << text);
  return {};
}

std::string error_text(const std::string& text) {
  try {
    load_chip(parse_doc(text, "chip.yaml"));
  } catch (const InputError& e) {
    return e.located();
  }
  return "";
}

}  // namespace

TEST_CASE("catalog: every chip file loads and names itself after its file", "[catalog]") {
  ChipCatalog cat(kCatalogDir);
  std::vector<std::string> names = cat.names();
  CHECK(names.size() == 20);
  for (const auto& n : kReviewChips) CHECK(std::count(names.begin(), names.end(), n) == 1);
  for (const char* n : {"nvidia-h200", "nvidia-b200", "cerebras-wse3", "google-tpu-v5p", "google-tpu-v6e",
                        "tenstorrent-wormhole-n300", "tenstorrent-wormhole-galaxy", "amd-mi325x", "nvidia-a100-sxm",
                        "intel-gaudi2"}) {
    CHECK(std::count(names.begin(), names.end(), n) == 1);
  }
  for (const ChipSpec* c : cat.all()) {
    INFO(c->name);
    CHECK(c->clock > 0);
    CHECK(c->power.idle < c->power.tdp);
    CHECK(!c->sources.empty());
    CHECK(c->main_tier().capacity > 0);
    bool review = std::count(kReviewChips.begin(), kReviewChips.end(), c->name) == 1;
    CHECK(c->published_row.has_value() == review);
  }
  for (size_t i = 0; i < kReviewChips.size(); ++i) {
    const ChipSpec& c = cat.get(kReviewChips[i]);
    REQUIRE(c.published_row);
    CHECK(c.published_row->row == static_cast<int>(i + 1));
    CHECK(c.published_row->cells.size() == published_columns().size());
  }
}

TEST_CASE("catalog: dense peak = units x unit_rate x clock within the documented tolerance", "[catalog]") {
  ChipCatalog cat(kCatalogDir);
  for (const ChipSpec* c : cat.all()) {
    INFO(c->name);
    // Every chip states its 16-bit matrix rate per unit, so the check covers every chip.
    CHECK((c->compute.unit_rate.count("bf16") + c->compute.unit_rate.count("fp16")) > 0);
    for (const auto& [dtype, rate] : c->compute.unit_rate) {
      INFO(dtype);
      double derived = c->compute.units * rate * c->clock;
      CHECK(derived == Approx(c->compute.peak.at(dtype)).epsilon(kPeakConsistencyTolerance));
      CHECK(c->compute.flops_per_cycle_per_unit(dtype, c->clock) ==
            Approx(rate).epsilon(kPeakConsistencyTolerance));
    }
  }
  // The tolerance is what docs/catalog.md says it is.
  CHECK(kPeakConsistencyTolerance == 0.03);
}

TEST_CASE("catalog: sparse and platform traps", "[catalog]") {
  ChipCatalog cat(kCatalogDir);
  const ChipSpec& h100 = cat.get("nvidia-h100-sxm");
  CHECK(h100.compute.peak.at("bf16") == Approx(989.4e12));
  CHECK(h100.compute.peak.at("fp8") == Approx(1978.9e12));
  CHECK(h100.compute.peak.at("bf16") < 1000e12);  // never the 1,979 sparse headline
  // The review's H100 row is the 2:4-sparse datasheet: exactly twice the dense figure.
  CHECK(published_flops(h100.published_row->cells.at("t2.bf16")) ==
        Approx(2 * h100.compute.peak.at("bf16")).epsilon(0.001));
  CHECK(published_flops(h100.published_row->cells.at("t2.fp8")) ==
        Approx(2 * h100.compute.peak.at("fp8")).epsilon(0.001));

  // MI300X: the review's row is the 8-GPU platform with sparsity (20.9 PF FP8 = 8 x 2.6 PF dense).
  const ChipSpec& mi = cat.get("amd-mi300x");
  CHECK(mi.compute.peak.at("bf16") == Approx(1307.4e12));
  CHECK(published_flops(mi.published_row->cells.at("t2.fp8")) == Approx(8 * mi.compute.peak.at("fp8")).epsilon(0.01));
  CHECK(published_flops(mi.published_row->cells.at("t2.bf16")) == Approx(8 * mi.compute.peak.at("bf16")).epsilon(0.01));

  // WSE-2: 75 PF is ~10x the dense FP16 estimate; "20k" W is the CS-2 system, not the chip.
  const ChipSpec& wse = cat.get("cerebras-wse2");
  CHECK(wse.compute.peak.at("fp16") == Approx(7.48e15));
  CHECK(published_flops(wse.published_row->cells.at("t2.fp16")) > 9 * wse.compute.peak.at("fp16"));
  CHECK(wse.power.tdp == Approx(15e3));
  CHECK(wse.published_row->cells.at("t1.tdp_w") == "20k");

  // Chips the review lists dense stay equal to the review (no silent rescaling).
  CHECK(cat.get("google-tpu-v4").compute.peak.at("bf16") ==
        Approx(published_flops(cat.get("google-tpu-v4").published_row->cells.at("t2.bf16"))));
  CHECK(cat.get("sambanova-sn40l").compute.peak.at("bf16") ==
        Approx(published_flops(cat.get("sambanova-sn40l").published_row->cells.at("t2.bf16"))));
  CHECK(cat.get("intel-gaudi3").compute.peak.at("bf16") ==
        Approx(published_flops(cat.get("intel-gaudi3").published_row->cells.at("t2.bf16"))));
}

TEST_CASE("catalog: H100 constants reproduce CALIBRATION C1 and C2", "[catalog]") {
  ChipCatalog cat(kCatalogDir);
  const ChipSpec& h = cat.get("nvidia-h100-sxm");
  // C2: device-to-device copy ~3.0 TB/s counting bytes read + written.
  const MemoryTierSpec& hbm = h.main_tier();
  CHECK(hbm.bandwidth * hbm.efficiency == Approx(3.0e12).epsilon(0.02));
  const MemoryTierSpec& hbm200 = cat.get("nvidia-h200").main_tier();
  CHECK(hbm200.bandwidth * hbm200.efficiency == Approx(4.3e12).epsilon(0.02));

  // C1: 8192^3 bf16 GEMM ~798 TFLOPS, by the tile arithmetic docs/catalog.md documents.
  const double n = 8192;
  const auto& cs = h.compute;
  double tiles = std::ceil(n / cs.tile_m) * std::ceil(n / cs.tile_n);
  double waves = std::ceil(tiles / cs.units);
  double mac_cycles = cs.tile_m * cs.tile_n * cs.tile_k * 2.0 / cs.flops_per_cycle_per_unit("bf16", h.clock);
  double tile_cycles = std::ceil(n / cs.tile_k) * mac_cycles / cs.matrix_efficiency + cs.tile_overhead_cycles;
  double seconds = waves * tile_cycles / h.clock + cs.launch_overhead;
  double tflops = 2 * n * n * n / seconds / 1e12;
  CHECK(waves == 16);
  CHECK(tflops == Approx(798).epsilon(0.01));
  CHECK(cs.unit_buffer == Approx(228 * 1024.0));
  CHECK(cs.launch_overhead == Approx(4e-6));
}

TEST_CASE("catalog: placement follows each architecture", "[catalog]") {
  ChipCatalog cat(kCatalogDir);
  for (const char* gpu : {"nvidia-h100-sxm", "amd-mi300x", "google-tpu-v4", "intel-gaudi3"}) {
    const ChipSpec& c = cat.get(gpu);
    INFO(gpu);
    CHECK(c.placement.weights == "hbm");
    CHECK(c.placement.kv_cache == "hbm");
  }
  const ChipSpec& groq = cat.get("groq-lpu");
  REQUIRE(groq.memory.size() == 1);  // no DRAM at all
  CHECK(groq.memory[0].tier == "sram");
  CHECK(groq.memory[0].capacity == Approx(220.0 * 1048576));
  CHECK(groq.placement.weights == "sram");
  CHECK(groq.placement.kv_cache == "sram");
  CHECK(groq.placement.activations == "sram");

  const ChipSpec& ipu = cat.get("graphcore-gc200");
  CHECK(ipu.placement.weights == "sram");
  CHECK(ipu.tier("sram")->capacity == Approx(900e6));
  CHECK(ipu.tier("ddr") != nullptr);  // optional Streaming Memory via the gateway

  const ChipSpec& wse = cat.get("cerebras-wse2");
  CHECK(wse.placement.weights == "sram");
  CHECK(wse.memory.size() == 1);

  const ChipSpec& sn = cat.get("sambanova-sn40l");
  REQUIRE(sn.memory.size() == 3);
  CHECK(sn.memory[0].tier == "sram");
  CHECK(sn.memory[0].capacity == Approx(520e6));
  CHECK(sn.memory[1].tier == "hbm");
  CHECK(sn.memory[1].capacity == Approx(64.0 * 1024 * 1024 * 1024));  // 64 GiB
  CHECK(sn.memory[2].tier == "ddr");
  CHECK(sn.memory[2].capacity == Approx(1.5e12));
  CHECK(sn.placement.weights == "ddr");
  CHECK(sn.placement.staging == "hbm");
  CHECK(sn.placement.stream_from == "hbm");
  CHECK(sn.placement.kv_cache == "hbm");

  const ChipSpec& gs = cat.get("tenstorrent-grayskull-e150");
  CHECK(gs.placement.weights == "lpddr");
  CHECK(gs.placement.stream_from == "lpddr");
  CHECK(gs.main_tier().bandwidth == Approx(118.4e9));

  // Idle power: published where it exists (TPU v4 measured minimum), assumed elsewhere.
  CHECK(cat.get("google-tpu-v4").power.idle == Approx(90));
  CHECK(cat.get("google-tpu-v4").power.tdp == Approx(192));
  CHECK(cat.get("nvidia-h100-sxm").power.idle == Approx(0.15 * 700));
  CHECK(sn.power.tdp > 0);  // modeled assumption (review: "-")
}

TEST_CASE("catalog: a broken chip file gives the right line:col", "[catalog]") {
  // The mini chip itself is valid.
  ChipSpec ok = load_chip(parse_doc(kMiniChip, "chip.yaml"));
  CHECK(ok.compute.peak.at("bf16") == Approx(4e12));

  SECTION("unknown dtype: the key") {
    SourcePos p = error_pos(replace_line(kMiniChip, 6, "  peak: {bf16: 4 TFLOPS, fp12: 1 TFLOPS}"));
    CHECK(p.file == "chip.yaml");
    CHECK(p.line == 6);
    CHECK(p.col == 26);  // "fp12" in "  peak: {bf16: 4 TFLOPS, fp12: ..."
    CHECK(error_text(replace_line(kMiniChip, 6, "  peak: {fp12: 1 TFLOPS}")).find("unknown dtype 'fp12'") !=
          std::string::npos);
  }
  SECTION("bad unit: the unit inside the value") {
    SourcePos p = error_pos(replace_line(kMiniChip, 6, "  peak: {bf16: 4 TB/s}"));
    CHECK(p.line == 6);
    CHECK(p.col == 18);  // "TB/s" starts after "4 " (value at col 16)
    p = error_pos(replace_line(kMiniChip, 2, "clock: 1000"));
    CHECK(p.line == 2);
    CHECK(p.col == 12);  // missing unit: just past the number
  }
  SECTION("missing field: the map that lacks it") {
    std::string no_clock = replace_line(kMiniChip, 2, "display: Mini");
    SourcePos p = error_pos(no_clock);
    CHECK(p.line == 1);
    CHECK(p.col == 1);
    CHECK(error_text(no_clock).find("missing required field 'clock'") != std::string::npos);
    p = error_pos(replace_line(kMiniChip, 3, "power: {idle: 10 W}"));
    CHECK(p.line == 3);
    CHECK(p.col == 8);
  }
  SECTION("unit_rate that disagrees with the peak: the rate") {
    std::string bad = replace_line(kMiniChip, 7, "  unit_rate: {bf16: 4000}");
    SourcePos p = error_pos(bad);
    CHECK(p.line == 7);
    CHECK(p.col == 21);  // the value 4000
    CHECK(error_text(bad).find("units x unit_rate x clock") != std::string::npos);
  }
  SECTION("incomplete published row: the table that lacks a column") {
    std::string pub = kMiniChip +
                      "published: {row: 1, accelerator: Mini,\n"
                      "  table1: {technology_node: 4nm},\n"
                      "  table2: {}, table3: {}}\n";
    SourcePos p = error_pos(pub);
    CHECK(p.line == 11);
    CHECK(p.col == 11);
    CHECK(error_text(pub).find("missing required field 'tdp_w'") != std::string::npos);
  }
}

}  // namespace test_catalog
