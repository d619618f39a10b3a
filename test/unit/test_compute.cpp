// The compute model against formulas and calibration (docs/models.md): GEMV is bound by
// reading W, C1 (H100 bf16 8192^3), C2 (H100 copy), never above peak, monotone in shape,
// fp8 vs bf16, wave quantisation. Every catalog chip is checked; none is skipped.
#include <catch2/catch.hpp>

#include "op_builders.h"

#include <algorithm>
#include <stdexcept>

#include "sim/ops/bsp.h"
#include "sim/ops/energy.h"
#include "sim/ops/op.h"

namespace test_compute {

using namespace llmsim;
using namespace llmsim_test;

namespace {

std::vector<const ChipSpec*> chips() {
  auto all = shipped_catalog().all();
  REQUIRE(all.size() >= 9);  // the nine chips of the review at least
  return all;
}

BytesPerSecond sustained(const MemoryTierSpec& t) { return t.bandwidth * t.efficiency; }

}  // namespace

TEST_CASE("compute: GEMV reads W at the stream tier's sustained bandwidth on every chip", "[compute]") {
  for (const ChipSpec* c : chips()) {
    INFO(c->name);
    const std::string dt = resolve_dtype("auto", *c);
    Op op = gemm_op(1, 8192, 8192);
    OpCost cost = estimate_op(op, *c);
    const MemoryTierSpec& t = stream_tier(*c);
    double w = 8192.0 * 8192.0 * dtype_bytes(dt);
    double mem = w / sustained(t);
    double cmp = cost.flops / (c->compute.peak.at(dt) * c->compute.matrix_efficiency);
    double launch = c->compute.launch_overhead;
    CHECK(cost.time >= mem);
    if (const Seconds exchange = bsp_exchange_time(op, *c); exchange > 0) {
      // A BSP chip (IPU) first exchanges W and x between its tiles, then computes: the
      // phases add (docs/models.md "BSP exchange"), whatever the SRAM read.
      CHECK(cost.time >= exchange + cmp);
    } else if (mem >= cmp) {
      // Memory-bound by the chip's balance (every chip but wafer-scale SRAM): W / bw.
      CHECK(cost.memory_bound);
      CHECK(cost.time == Approx(mem + launch).epsilon(0.10));
    } else {
      // WSE-2/3 stream SRAM faster (20 PB/s) than they can MAC one flop per byte: the
      // GEMV is compute bound; it still never beats W / bw or the matrix peak.
      CHECK(cost.time >= cmp);
      CHECK_FALSE(cost.memory_bound);
    }
  }
}

TEST_CASE("compute: C1 H100 bf16 8192^3 GEMM lands 700-850 TFLOPS", "[compute]") {
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  OpCost c = estimate_op(gemm_op(8192, 8192, 8192, "bf16"), h100);
  double tflops = c.flops / c.time / 1e12;
  CHECK(tflops > 700);
  CHECK(tflops < 850);
  CHECK(c.tiles == 64 * 32);            // 128 x 256 tiles
  CHECK(c.waves == (2048 + 131) / 132); // 16 waves: 15.5 rounded up
  CHECK_FALSE(c.memory_bound);
}

TEST_CASE("compute: C2 H100 8 GiB HBM copy lands 2.8-3.2 TB/s counting read + write", "[compute]") {
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  Op op;
  op.kind = OpKind::Copy;
  op.bytes = 8.0 * 1024 * 1024 * 1024;
  op.from = op.to = "hbm";
  OpCost c = estimate_op(op, h100);
  CHECK(c.bytes == Approx(2 * op.bytes));
  double tbs = c.bytes / c.time / 1e12;
  CHECK(tbs > 2.8);
  CHECK(tbs < 3.2);
  // A copy larger than half the tier cannot have source and destination resident.
  op.bytes = 43e9;  // half of the H100's 80 GiB is 42.9 GB
  CHECK_THROWS_AS(estimate_op(op, h100), std::invalid_argument);
}

TEST_CASE("compute: achieved never exceeds peak, for any shape and dtype", "[compute]") {
  const std::int64_t dims[] = {1, 3, 17, 128, 129, 1000, 4096, 12288};
  for (const ChipSpec* c : chips()) {
    INFO(c->name);
    for (const auto& kv : c->compute.peak) {
      for (auto m : dims) {
        for (auto n : {std::int64_t{1}, std::int64_t{257}, std::int64_t{8192}}) {
          for (auto k : {std::int64_t{64}, std::int64_t{4096}}) {
            OpCost cost = estimate_op(gemm_op(m, n, k, kv.first), *c);
            INFO(kv.first << " m=" << m << " n=" << n << " k=" << k);
            REQUIRE(cost.flops / cost.time <= kv.second);
            REQUIRE(cost.bytes / cost.time <= cost.peak_bandwidth);
          }
        }
      }
    }
  }
}

TEST_CASE("compute: time is monotone in M, N and K", "[compute]") {
  for (const ChipSpec* c : chips()) {
    INFO(c->name);
    for (int axis = 0; axis < 3; ++axis) {
      double prev = 0;
      for (std::int64_t v = 1; v <= 20000; v = v < 64 ? v + 1 : v + v / 7) {
        std::int64_t d[3] = {1024, 4096, 4096};
        d[axis] = v;
        double t = estimate_op(gemm_op(d[0], d[1], d[2]), *c).time;
        INFO("axis " << axis << " value " << v);
        REQUIRE(t >= prev * (1 - 1e-12));
        prev = t;
      }
    }
  }
}

TEST_CASE("compute: fp8 beats bf16 where the chip has fp8", "[compute]") {
  int with_fp8 = 0;
  for (const ChipSpec* c : chips()) {
    if (!c->compute.supports("fp8")) {
      // TPU v4 and others without fp8: a clear error naming the chip.
      try {
        estimate_op(gemm_op(8192, 8192, 8192, "fp8"), *c);
        FAIL("fp8 accepted on " << c->name);
      } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find(c->name) != std::string::npos);
        CHECK(std::string(e.what()).find("fp8") != std::string::npos);
      }
      continue;
    }
    ++with_fp8;
    INFO(c->name);
    double t8 = estimate_op(gemm_op(8192, 8192, 8192, "fp8"), *c).time;
    double t16 = estimate_op(gemm_op(8192, 8192, 8192, resolve_dtype("auto", *c)), *c).time;
    if (c->compute.peak.at("fp8") > peak16(*c)) {
      CHECK(t8 < 0.75 * t16);
    } else {
      CHECK(t8 <= t16);  // same MAC rate (Gaudi 3, TPU v5p): only the bytes halve
    }
  }
  CHECK(with_fp8 >= 3);
}

TEST_CASE("compute: wave quantisation, units + 1 tiles take a second wave", "[compute]") {
  for (const ChipSpec* c : chips()) {
    INFO(c->name);
    const auto& cs = c->compute;
    if (cs.units > 100000) continue;  // WSE: 850k one-tile batches is not a GEMM anyone runs
    OpCost full = estimate_op(gemm_op(cs.tile_m, cs.tile_n, 8192, "auto", cs.units), *c);
    OpCost over = estimate_op(gemm_op(cs.tile_m, cs.tile_n, 8192, "auto", cs.units + 1), *c);
    CHECK(full.tiles == cs.units);
    CHECK(full.waves == 1);
    CHECK(over.tiles == cs.units + 1);
    CHECK(over.waves == 2);
    CHECK(over.time > full.time);
  }
  // H100, compute bound: 132 tiles (12 x 11) take one wave, 133 tiles (7 x 19) two; the
  // second wave costs a whole tile pass over K (formula with the C1 constants).
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  const auto& cs = h100.compute;
  OpCost c132 = estimate_op(gemm_op(12 * 128, 11 * 256, 8192, "bf16"), h100);
  OpCost c133 = estimate_op(gemm_op(7 * 128, 19 * 256, 8192, "bf16"), h100);
  CHECK(c132.waves == 1);
  CHECK(c133.waves == 2);
  CHECK_FALSE(c133.memory_bound);
  double pass = ((8192 / cs.tile_k) * double(cs.tile_m) * cs.tile_n * cs.tile_k * 2 /
                     cs.flops_per_cycle_per_unit("bf16", h100.clock) / cs.matrix_efficiency +
                 cs.tile_overhead_cycles) / h100.clock;
  CHECK(c133.time - c132.time == Approx(pass).epsilon(0.05));
  CHECK(c133.time > 1.8 * c132.time - h100.compute.launch_overhead);
}

// A weight-stationary array (TPU MXU) streams M through each loaded 128 x 128 weight tile,
// so 427 rows cost 432 row-cycles (8-row granularity [ScalingBook]), 84 % of 512's; an
// output-stationary one (H100) pays whole 128-row tiles for both: the same time. Compute
// bound on both chips (427 FLOP per weight byte is past either's ridge point).
TEST_CASE("compute: weight-stationary arrays stream M, output-stationary ones pay whole tiles", "[compute]") {
  const ChipSpec& tpu = shipped_catalog().get("google-tpu-v4");
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  for (const ChipSpec* c : {&tpu, &h100}) {
    INFO(c->name);
    OpCost part = estimate_op(gemm_op(427, 8192, 8192, "bf16"), *c);
    OpCost whole = estimate_op(gemm_op(512, 8192, 8192, "bf16"), *c);
    CHECK_FALSE(part.memory_bound);
    CHECK_FALSE(whole.memory_bound);
    const double expected = c == &tpu ? 432.0 / 512.0 : 1.0;
    CHECK(part.compute_time / whole.compute_time == Approx(expected).epsilon(0.01));
  }
}

TEST_CASE("compute: int4 weights halve GEMV time, attention decode reads the KV cache", "[compute]") {
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  double t16 = estimate_op(gemm_op(1, 8192, 8192, "bf16"), h100).time;
  double t4 = estimate_op(gemm_op(1, 8192, 8192, "int4"), h100).time;
  double launch = h100.compute.launch_overhead;
  CHECK((t4 - launch) < 0.7 * (t16 - launch));

  Op a;
  a.kind = OpKind::Attention;
  a.batch = 8;
  a.heads = 64;
  a.kv_heads = 8;
  a.head_dim = 128;
  a.q_len = 1;
  a.kv_len = 4096;
  OpCost gqa = estimate_op(a, h100);
  double kv = 8.0 * 4096 * 8 * 128 * 2 * 2;
  CHECK(gqa.memory_bound);
  CHECK(gqa.bytes >= kv);
  CHECK(gqa.bytes < 1.1 * kv);
  CHECK(gqa.time == Approx(kv / sustained(h100.main_tier()) + launch).epsilon(0.15));
  a.kv_heads = 64;  // MHA: 8x the cache
  CHECK(estimate_op(a, h100).time > 6 * (gqa.time - launch));
  a.kv_heads = 7;
  CHECK_THROWS_AS(estimate_op(a, h100), std::invalid_argument);

  // Causal prefill does about half the work of non-causal.
  a.kv_heads = 8;
  a.batch = 1;
  a.q_len = a.kv_len = 4096;
  OpCost causal = estimate_op(a, h100);
  a.causal = false;
  OpCost full = estimate_op(a, h100);
  CHECK(causal.flops == Approx(full.flops / 2).epsilon(0.01));
  CHECK(causal.time < 0.65 * full.time);
  CHECK_FALSE(full.memory_bound);
}

TEST_CASE("compute: vector ops and bad shapes", "[compute]") {
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  Op e;
  e.kind = OpKind::Elementwise;
  e.elements = 1 << 28;
  e.dtype = "bf16";
  OpCost c = estimate_op(e, h100);
  CHECK(c.bytes == Approx(3.0 * (1 << 28) * 2));
  CHECK(c.memory_bound);
  CHECK(c.time == Approx(c.bytes / sustained(h100.main_tier()) + h100.compute.launch_overhead).epsilon(0.01));
  e.elements = 0;
  CHECK_THROWS_AS(estimate_op(e, h100), std::invalid_argument);
  CHECK_THROWS_AS(estimate_op(gemm_op(0, 8, 8), h100), std::invalid_argument);
  CHECK_THROWS_AS(estimate_op(gemm_op(8, 8, -1), h100), std::invalid_argument);
  CHECK_THROWS_AS(estimate_op(gemm_op(8, 8, 8, "fp4"), h100), std::invalid_argument);
}

TEST_CASE("compute: energy coefficients put full load at TDP", "[compute]") {
  for (const ChipSpec* c : chips()) {
    INFO(c->name);
    const MemoryTierSpec& t = stream_tier(*c);
    double p = c->power.idle + chip_pj_per_flop(*c, resolve_dtype("auto", *c)) * 1e-12 * peak16(*c).value() +
               tier_pj_per_byte(*c, t) * 1e-12 * sustained(t).value();
    if (c->power.pj_per_flop == 0 && t.pj_per_byte == 0) CHECK(p == Approx(c->power.tdp).epsilon(1e-9));
    // Explicit energies: full load may exceed TDP (the TDP limit lowers the clock then), but
    // the matrix units alone at their calibrated 16-bit rate (peak x matrix_efficiency; on
    // H100 the C1 random-data GEMM draws the TDP at 80 % of peak, docs/models.md "Power", so
    // the peak itself need not fit) and the stream tier alone at full rate fit.
    if (c->power.pj_per_flop > 0) {
      double matrix_w = c->power.pj_per_flop * 1e-12 * peak16(*c).value() * c->compute.matrix_efficiency;
      auto f = c->fitted.find("power.pj_per_flop");
      bool inherited = f != c->fitted.end() && f->second.rfind("inherited", 0) == 0;
      if (inherited || c->family == "ipu") {
        // A borrowed energy (MI300X / MI325X from H100's C1) or the IPU's published one
        // (Knowles, HC33: ~1.75 pJ/FLOP, "a power virus will slow the clock") may put the
        // calibrated GEMM over TDP: the governor then lowers the clock, which must find a
        // clock that fits.
        // Dynamic power ~ f x V^2; at the bottom of the DVFS curve V = min_voltage x nominal.
        double fmin = c->power.dvfs_min_clock > 0 ? c->power.dvfs_min_clock / c->clock : 0.4;
        CHECK(c->power.idle + matrix_w * fmin * c->power.dvfs_min_voltage * c->power.dvfs_min_voltage <=
              c->power.tdp);
      } else {
        CHECK(c->power.idle + matrix_w <= c->power.tdp);
      }
      CHECK(c->power.idle + tier_pj_per_byte(*c, t) * 1e-12 * sustained(t).value() <= c->power.tdp);
    }
    CHECK(chip_pj_per_flop(*c, resolve_dtype("auto", *c)) > 0);
    for (const auto& kv : c->compute.peak) {
      INFO(kv.first);
      if (c->power.pj_per_flop_dtype.count(kv.first)) {
        // A narrower dtype with its own energy costs less per FLOP than 16-bit, a wider
        // one (the IPU's FP32 multiply-accumulate) more.
        if (dtype_bytes(kv.first) <= 2) {
          CHECK(chip_pj_per_flop(*c, kv.first) < chip_pj_per_flop(*c, "bf16"));
        } else {
          CHECK(chip_pj_per_flop(*c, kv.first) > chip_pj_per_flop(*c, "bf16"));
        }
        continue;
      }
      // Every other dtype at its full rate draws the same matrix power.
      CHECK(chip_pj_per_flop(*c, kv.first) * kv.second == Approx(chip_pj_per_flop(*c, "bf16") * peak16(*c)));
    }
  }
}

TEST_CASE("compute: explicit catalog energies override the derived ones", "[compute]") {
  ChipSpec c = shipped_catalog().get("nvidia-h100-sxm");  // a copy we may edit
  // Start from the derived model: no explicit energies, no fabric path.
  c.power.pj_per_flop = 0;
  c.power.pj_per_flop_dtype.clear();
  c.power.pj_per_byte_fabric = 0;
  for (auto& t : c.memory) t.pj_per_byte = 0;
  const double derived_flop = chip_pj_per_flop(c, "bf16");
  c.power.pj_per_flop = 0.3;
  CHECK(chip_pj_per_flop(c, "bf16") == Approx(0.3));
  CHECK(chip_pj_per_flop(c, "fp8") == Approx(0.3 * 989.4 / 1978.9));  // twice the rate, same power
  // The main tier then takes what is left of the budget, up to its reference energy.
  const MemoryTierSpec& hbm = *c.tier("hbm");
  double left = (c.power.tdp - c.power.idle - 0.3e-12 * 989.4e12) / (hbm.bandwidth * hbm.efficiency) * 1e12;
  CHECK(tier_pj_per_byte(c, hbm) == Approx(std::min(left, reference_pj_per_byte("hbm"))));
  for (auto& t : c.memory) if (t.tier == "hbm") t.pj_per_byte = 7;
  CHECK(tier_pj_per_byte(c, *c.tier("hbm")) == Approx(7));
  c.power.pj_per_flop = 0;
  // Explicit memory energy, derived compute: full load still sits at TDP.
  double p =
      c.power.idle + chip_pj_per_flop(c, "bf16") * 1e-12 * 989.4e12 + 7e-12 * hbm.bandwidth.value() * hbm.efficiency;
  CHECK(p == Approx(c.power.tdp));
  CHECK(chip_pj_per_flop(c, "bf16") > derived_flop);
  // A dtype's own energy wins over the peak-ratio rule; the fabric path adds to off-chip
  // tiers only.
  c.power.pj_per_flop_dtype["fp8"] = 0.2;
  CHECK(chip_pj_per_flop(c, "fp8") == Approx(0.2));
  c.power.pj_per_byte_fabric = 10;
  CHECK(tier_pj_per_byte(c, *c.tier("hbm")) == Approx(17));
  for (auto& t : c.memory) if (t.tier == "sram") t.pj_per_byte = 1;
  CHECK(tier_pj_per_byte(c, *c.tier("sram")) == Approx(1));
}

}  // namespace test_compute
