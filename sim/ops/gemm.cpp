// GEMM timing: output tiles dealt to units in waves, each tile a pass over K (docs/models.md
// "GEMM"). Operand traffic on the stream tier follows the reuse model described there.
#include <algorithm>
#include <cmath>

#include "sim/ops/energy.h"
#include "sim/ops/op_model.h"

namespace llmsim {
namespace opmodel {

namespace {
// Share of the on-chip cache (the tier above the stream tier) that may hold a GEMM's whole
// A and B so each is read from the stream tier once; the rest serves C tiles and other
// traffic. A modelling choice (docs/models.md "Reuse"), not a calibrated value.
constexpr double kCacheResidentFraction = 0.5;
// Split-K partial sums are fp32 (written by each split, read back by the reduction).
constexpr double kPartialBytes = 4;
}  // namespace

OpCost estimate_gemm(const Op& op, const ChipSpec& chip) {
  require_positive(op.m, "m");
  require_positive(op.n, "n");
  require_positive(op.k, "k");
  require_positive(op.batch, "batch");
  const std::string dt = resolve_dtype(op.dtype, chip);
  const std::string cdt = matrix_dtype(dt, chip);
  const ComputeSpec& cs = chip.compute;
  const double fpc = cs.flops_per_cycle_per_unit(cdt, chip.clock);
  const std::int64_t tm = cs.tile_m, tn = cs.tile_n, tk = cs.tile_k, units = cs.units;

  // Operand sizes: int4 weights with 16-bit activations (w4a16); outputs at least 16-bit.
  const double w_b = dtype_bytes(dt);
  const double a_b = dt == "int4" ? 2.0 : w_b;
  const double c_b = std::max(2.0, w_b);

  const std::int64_t tiles_m = ceil_div(op.m, tm), tiles_n = ceil_div(op.n, tn);
  const std::int64_t tiles = op.batch * tiles_m * tiles_n;
  const std::int64_t k_steps = ceil_div(op.k, tk);
  // Edge tiles cost a full pass of compute; a lone row block may pad less (padded_rows).
  const std::int64_t rows = tiles_m == 1 ? padded_rows(op.m, chip) : tm;
  const double step_cycles = static_cast<double>(rows * tn * tk) * 2.0 / fpc / cs.matrix_efficiency;

  // Split-K fills idle units when there are fewer tiles than units (cuBLAS/CUTLASS do).
  std::int64_t split = 1;
  if (tiles < units && k_steps > 1) split = std::min(units / tiles, k_steps);

  TileJob job;
  job.items = tiles * split;
  job.item_cycles = static_cast<double>(ceil_div(k_steps, split)) * step_cycles + cs.tile_overhead_cycles;

  const MemoryTierSpec& tier = op_tier(op, chip, "");
  const double M = static_cast<double>(op.m), N = static_cast<double>(op.n), K = static_cast<double>(op.k);
  const double A = M * K * a_b, B = op.weights_on_chip ? 0.0 : K * N * w_b, C = M * N * c_b;
  double reads;
  const MemoryTierSpec* cache = &chip.memory.front() != &tier ? &chip.memory.front() : nullptr;
  if (cache && A + B <= kCacheResidentFraction * cache->capacity) {
    reads = A + B;
  } else if (cache) {
    // Concurrent tiles of one wave share A rows / B columns through the cache: a wave
    // covers an r x c block of the tile grid, about square in elements.
    std::int64_t r = std::llround(std::sqrt(static_cast<double>(units * tn) / static_cast<double>(tm)));
    r = std::clamp<std::int64_t>(r, 1, tiles_m);
    std::int64_t c = std::clamp<std::int64_t>(ceil_div(units, r), 1, tiles_n);
    reads = A * static_cast<double>(ceil_div(tiles_n, c)) + B * static_cast<double>(ceil_div(tiles_m, r));
  } else {
    // No cache above the stream tier: every tile fetches its own A rows and B columns.
    reads = A * static_cast<double>(tiles_n) + B * static_cast<double>(tiles_m);
  }
  const double partials = split > 1 ? 2.0 * static_cast<double>(split) * M * N * kPartialBytes : 0.0;
  job.total_bytes = static_cast<double>(op.batch) * (reads + C + partials);
  job.prologue_bytes = static_cast<double>((rows + tn) * tk) * a_b;

  OpCost cost;
  cost.dtype = dt;
  cost.split_k = split;
  run_waves(job, chip, tier, cost);
  cost.flops = 2.0 * M * N * K * static_cast<double>(op.batch);
  cost.peak = cs.peak.at(cdt);
  cost.energy = (cost.flops * chip_pj_per_flop(chip, cdt) + cost.bytes * tier_pj_per_byte(chip, tier)) * 1e-12;
  return cost;
}

}  // namespace opmodel
}  // namespace llmsim
