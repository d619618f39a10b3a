#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/spec/chip_loaders.h"

namespace llmsim {

namespace {

// compute.peak: a dense MAC rate per dtype the chip runs natively (weight-only formats
// have none of their own: they run at the 16-bit rate).
void load_compute_peaks(Params& cf, ChipSpec& c) {
  Fields pk(cf.get("peak"), cf.file(), "chip.compute.peak");
  for (auto kv : pk.node()) {
    std::string dt = kv.first.Scalar();
    if (std::find(known_dtypes().begin(), known_dtypes().end(), dt) == known_dtypes().end()) {
      throw InputError(pos_of(kv.first, cf.file()), "chip.compute.peak: unknown dtype '" + dt + "'");
    }
    if (weight_only_format(dt)) {
      throw InputError(pos_of(kv.first, cf.file()),
                       "chip.compute.peak: " + dt + " is a weight format (16-bit compute), not a MAC rate");
    }
    double v = pk.qty(dt, Dim::Flops);
    if (v <= 0) pk.fail(dt, "must be positive");
    c.compute.peak[dt] = v;
    cf.resolved()["peak"][dt] = resolved_quantity(v, Dim::Flops);
  }
  if (c.compute.peak.empty()) cf.fail("peak", "needs at least one dtype");
}

// compute.unit_rate: FLOP per cycle per unit, each a dtype of compute.peak; units x rate x
// clock must give the peak (the catalog's own arithmetic check: a typo in units, clock or
// peak shows up here).
void load_compute_unit_rates(Params& cf, ChipSpec& c) {
  YAML::Node ur = cf.opt("unit_rate");
  if (!ur) return;
  Fields rf(ur, cf.file(), "chip.compute.unit_rate");
  for (auto kv : rf.node()) {
    std::string dt = kv.first.Scalar();
    if (!c.compute.supports(dt)) {
      throw InputError(pos_of(kv.first, cf.file()),
                       "chip.compute.unit_rate: dtype '" + dt + "' has no entry in compute.peak");
    }
    double rate = rf.num(dt);
    if (rate <= 0) rf.fail(dt, "must be positive (FLOP per cycle per unit)");
    c.compute.unit_rate[dt] = rate;
    cf.resolved()["unit_rate"][dt] = resolved_number(rate);
  }
  rf.finish();
  for (const auto& [dt, rate] : c.compute.unit_rate) {
    double derived = c.compute.units * rate * c.clock;
    double peak = c.compute.peak.at(dt);
    if (std::fabs(derived - peak) > kPeakConsistencyTolerance * peak) {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "%s: units x unit_rate x clock = %.4g FLOP/s but peak is %.4g FLOP/s "
                    "(more than %.0f%% apart)",
                    dt.c_str(), derived, peak, kPeakConsistencyTolerance * 100);
      rf.fail(dt, buf);
    }
  }
}

// The units' structure: vector / special-function units, the BSP exchange (checked here,
// read back from ChipSpec::resolved: sim/ops/bsp.h bsp_of) and the GEMM tile.
void load_compute_structure(Params& cf, ChipSpec& c) {
  c.compute.vector_peak = cf.qty("vector");
  if (cf.has("vector_unit")) {
    Params vf = cf.child("vector_unit");
    c.compute.vector_units = static_cast<int>(vf.positive("count"));
    c.compute.vector_lanes = static_cast<int>(vf.positive("lanes"));
    c.compute.special_per_clock = vf.num("special");
    if (!(c.compute.special_per_clock > 0)) vf.fail("special", "must be positive (results per clock per vector unit)");
    vf.finish();
  }
  if (cf.has("exchange")) {
    Params xf = cf.child("exchange");
    if (!(xf.num("bytes_per_cycle") > 0)) xf.fail("bytes_per_cycle", "must be positive");
    if (!(xf.num("sync_cycles") >= 0)) xf.fail("sync_cycles", "must be >= 0");
    xf.finish();
  }
  Params tf = cf.child("tile");
  c.compute.tile_m = static_cast<int>(tf.positive("m"));
  c.compute.tile_n = static_cast<int>(tf.positive("n"));
  c.compute.tile_k = static_cast<int>(tf.positive("k"));
  const std::int64_t mma_m = tf.integer("mma_m");
  if (mma_m < 0 || mma_m > c.compute.tile_m)
    tf.fail("mma_m", "must be in [0, m = " + std::to_string(c.compute.tile_m) + "]");
  c.compute.mma_m = mma_m > 0 ? static_cast<int>(mma_m) : c.compute.tile_m;
  tf.finish();
  c.compute.unit_buffer = cf.qty("unit_buffer");
}

// The efficiencies and per-kernel costs the GEMM and collective models read.
void load_compute_efficiencies(Params& cf, ChipSpec& c) {
  c.compute.launch_overhead = cf.qty("launch_overhead");
  c.compute.matrix_efficiency = cf.num("matrix_efficiency");
  if (c.compute.matrix_efficiency <= 0 || c.compute.matrix_efficiency > 1)
    cf.fail("matrix_efficiency", "must be in (0, 1]");
  c.compute.warp_mma_fraction = cf.num("warp_mma_fraction");
  if (!(c.compute.warp_mma_fraction > 0) || c.compute.warp_mma_fraction > 1)
    cf.fail("warp_mma_fraction", "must be in (0, 1]");
  c.compute.tile_overhead_cycles = cf.num("tile_overhead_cycles");
  if (c.compute.tile_overhead_cycles < 0) cf.fail("tile_overhead_cycles", "must be >= 0");
  c.compute.operand_accesses_per_mac = cf.num("operand_accesses_per_mac");
  if (c.compute.operand_accesses_per_mac < 0) cf.fail("operand_accesses_per_mac", "must be >= 0");
  c.compute.collective_units = static_cast<int>(cf.integer("collective_units"));
  if (c.compute.collective_units < 0 || c.compute.collective_units > c.compute.units)
    cf.fail("collective_units", "must be in [0, units = " + std::to_string(c.compute.units) + "]");
}

}  // namespace

void load_chip_compute(Params& chip_fields, ChipSpec& c) {
  Params cf = chip_fields.child("compute");
  c.compute.units = static_cast<int>(cf.positive("units"));
  load_compute_peaks(cf, c);
  load_compute_unit_rates(cf, c);
  load_compute_structure(cf, c);
  load_compute_efficiencies(cf, c);
  cf.finish();
}

}  // namespace llmsim
