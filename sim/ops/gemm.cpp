// GEMM timing: output tiles dealt to units in waves, each tile a pass over K (docs/models.md
// "GEMM"). Like a BLAS library's heuristics, the model picks the fastest of a few kernels:
// the tiled MAC-array kernel without and with split-K, and for a lone row block (M below
// tile_m, e.g. a GEMV) a vector-unit kernel. Taking the minimum over kernels whose own
// times are monotone keeps the result monotone in M, N and K.
#include <algorithm>
#include <cmath>

#include "sim/ops/energy.h"
#include "sim/ops/op_model.h"

namespace llmsim {
namespace opmodel {

namespace {
// Share of the on-chip cache (the tier above the stream tier) that may hold a GEMM's whole
// A and B so each is read from the stream tier once, or its full-K operand panels; the rest
// serves C tiles and other traffic. A modelling choice (docs/models.md "Reuse").
constexpr double kCacheResidentFraction = 0.5;
// Split-K partial sums and unit accumulators are fp32.
constexpr double kAccumBytes = 4;

struct Shape {
  double M, N, K;
  double A, B, C;       // operand bytes per batch entry
  std::int64_t tiles_m, tiles_n, tiles, k_steps;
};

// Stream-tier bytes of one batch entry of the tiled kernel, before split-K partials.
double tiled_reads(const Shape& s, const ChipSpec& chip, const MemoryTierSpec& tier, double a_b, double w_b) {
  const ComputeSpec& cs = chip.compute;
  const std::int64_t tm = cs.tile_m, tn = cs.tile_n, units = cs.units;
  const MemoryTierSpec* cache = &chip.memory.front() != &tier ? &chip.memory.front() : nullptr;
  if (cache && s.A + s.B <= kCacheResidentFraction * cache->capacity) return s.A + s.B;
  // Reuse (docs/models.md "Reuse"): an output block of R x C elements whose A rows and B
  // columns are held on chip reads A ceil(N / C) times and B ceil(M / R) times. The block
  // is the largest of (a) one wave's concurrent tiles, which share operands in flight,
  // (b) one unit's buffer of fp32 accumulators, (c) full-K panels in the usable cache.
  std::int64_t r = std::llround(std::sqrt(static_cast<double>(units * tn) / static_cast<double>(tm)));
  r = std::clamp<std::int64_t>(r, 1, s.tiles_m);
  const std::int64_t c = std::clamp<std::int64_t>(ceil_div(units, r), 1, s.tiles_n);
  const auto unit_side = static_cast<std::int64_t>(std::sqrt(cs.unit_buffer / kAccumBytes));
  const auto cache_side =
      cache ? static_cast<std::int64_t>(kCacheResidentFraction * cache->capacity / (s.K * (a_b + w_b))) : 0;
  const std::int64_t side = std::max(unit_side, cache_side);
  const std::int64_t rows_blk = std::max(r * tm, side / tm * tm);
  const std::int64_t cols_blk = std::max(c * tn, side / tn * tn);
  return s.A * static_cast<double>(ceil_div(static_cast<std::int64_t>(s.N), cols_blk)) +
         s.B * static_cast<double>(ceil_div(static_cast<std::int64_t>(s.M), rows_blk));
}

// The operand sizes and tile counts of one batch entry. Operands: int4 / w8a16 weights
// with 16-bit activations (weight-only formats); outputs at least 16-bit.
Shape gemm_shape_of(const Op& op, const ComputeSpec& cs, double a_b, double w_b) {
  const double c_b = std::max(2.0, w_b);
  Shape s;
  s.M = static_cast<double>(op.m);
  s.N = static_cast<double>(op.n);
  s.K = static_cast<double>(op.k);
  s.A = s.M * s.K * a_b;
  s.B = op.weights_on_chip ? 0.0 : s.K * s.N * w_b;
  s.C = s.M * s.N * c_b;
  s.tiles_m = ceil_div(op.m, cs.tile_m);
  s.tiles_n = ceil_div(op.n, cs.tile_n);
  s.tiles = op.batch * s.tiles_m * s.tiles_n;
  s.k_steps = ceil_div(op.k, cs.tile_k);
  return s;
}

// GEMV-style kernel on the vector units for a partial row block (M < tile_m), which
// would waste most of an output-stationary MAC array: operands read once.
OpCost vector_unit_gemv(const Op& op, const ChipSpec& chip, const MemoryTierSpec& tier, const Shape& s, double flops) {
  const double batch = static_cast<double>(op.batch);
  OpCost v;
  v.bytes = batch * (s.A + s.B + s.C);
  v.compute_time = flops / vector_peak(chip);
  v.memory_time = v.bytes / (tier.bandwidth * tier.efficiency);
  v.memory_bound = v.memory_time >= v.compute_time;
  v.prologue = chip.compute.launch_overhead + tier.latency;
  v.time = v.prologue + std::max(v.compute_time, v.memory_time);
  v.tiles = std::min<std::int64_t>(chip.compute.units, op.n * op.batch);  // one column slice per unit
  v.waves = 1;
  v.wave_time = v.last_wave_time = v.time - v.prologue;
  v.peak_bandwidth = tier.bandwidth;
  return v;
}

}  // namespace

OpCost estimate_gemm(const Op& op, const ChipSpec& chip) {
  require_positive(op.m, "m");
  require_positive(op.n, "n");
  require_positive(op.k, "k");
  require_positive(op.batch, "batch");
  const std::string dt = resolve_dtype(op.dtype, chip);
  const std::string cdt = matrix_dtype(dt, chip);
  const ComputeSpec& cs = chip.compute;
  const double fpc = matrix_fpc(cdt, chip);
  const std::int64_t tm = cs.tile_m, tn = cs.tile_n, tk = cs.tile_k, units = cs.units;
  const double batch = static_cast<double>(op.batch);
  const double w_b = dtype_bytes(dt);
  const double a_b = activation_bytes(dt);
  const Shape s = gemm_shape_of(op, cs, a_b, w_b);

  const MemoryTierSpec& tier = op_tier(op, chip, "");
  const double reads = tiled_reads(s, chip, tier, a_b, w_b);
  // Useful rows: a grouped GEMM's groups are padded to m in the tiles, not in the FLOPs.
  const double rows = op.grouped_rows > 0 ? std::min(static_cast<double>(op.grouped_rows), s.M * batch) : s.M * batch;
  const double flops = 2.0 * rows * s.N * s.K;

  auto tiled = [&](std::int64_t split) {
    // Output-stationary arrays pay a full tile for the edge row block; weight-stationary
    // ones stream M through loaded weight tiles in blocks padded to their row granularity.
    std::int64_t blocks = 0;
    const std::int64_t rows_per_item = block_rows(op.m, s.tiles_n * op.batch * split, chip, blocks);
    const double step_cycles = static_cast<double>(rows_per_item * tn * tk) * 2.0 / fpc / cs.matrix_efficiency;
    TileJob job;
    job.items = op.batch * blocks * s.tiles_n * split;
    job.item_cycles = static_cast<double>(ceil_div(s.k_steps, split)) * step_cycles + cs.tile_overhead_cycles;
    const double partials = split > 1 ? 2.0 * static_cast<double>(split) * s.M * s.N * kAccumBytes : 0.0;
    job.total_bytes = batch * (reads + s.C + partials);
    job.prologue_bytes = static_cast<double>((s.tiles_m == 1 ? padded_rows(op.m, chip) : tm) + tn) * tk * a_b;
    job.prologue_items = s.tiles * split;
    OpCost c;
    c.split_k = split;
    run_waves(job, chip, tier, c);
    return c;
  };

  // Split-K fills idle units when there are fewer tiles than units (cuBLAS/CUTLASS do):
  // powers of two up to the most that still fit in one wave. Powers of two only, so the
  // candidate set shrinks as the shape grows (what keeps the minimum monotone).
  OpCost best = tiled(1);
  if (s.tiles < units && s.k_steps > 1) {
    const std::int64_t most = std::min(units / s.tiles, s.k_steps);
    for (std::int64_t sp = 2; sp <= most; sp *= 2) {
      OpCost c = tiled(sp);
      if (c.time < best.time) best = c;
    }
  }

  if (op.m < tm) {
    OpCost v = vector_unit_gemv(op, chip, tier, s, flops);
    if (v.time < best.time) best = v;
  }

  best.dtype = dt;
  best.tier = tier.tier;
  best.flops = flops;
  best.peak = cs.peak.at(cdt);
  best.energy = (flops * chip_pj_per_flop(chip, cdt) + best.bytes.value() * tier_pj_per_byte(chip, tier)) * 1e-12;
  return best;
}

}  // namespace opmodel
}  // namespace llmsim
