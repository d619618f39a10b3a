// Attention timing, flash-attention style: per (sequence, KV head) the group's query rows
// are packed into Q blocks of tile_m rows, each sweeping KV blocks of tile_n keys (two
// MACs per score plus a softmax on the vector and special-function units, serialised with
// the matrix phases or overlapped, per the kernel generation). Decode (q_len 1) packs the
// GQA group into one Q block and splits the KV sweep across idle units (flash-decoding); it
// is bound by reading the KV cache. docs/models.md "Attention".
#include <algorithm>
#include <stdexcept>

#include "sim/ops/energy.h"
#include "sim/ops/op_model.h"

namespace llmsim {
namespace opmodel {

namespace {
constexpr double kPartialBytes = 4;  // split-KV partial outputs are fp32

// The op's shape checked (std::invalid_argument otherwise); the dtype it runs at.
std::string checked_attention_dtype(const Op& op, const ChipSpec& chip) {
  require_positive(op.batch, "batch");
  require_positive(op.heads, "heads");
  require_positive(op.kv_heads, "kv_heads");
  require_positive(op.head_dim, "head_dim");
  require_positive(op.q_len, "q_len");
  require_positive(op.kv_len, "kv_len");
  if (op.heads % op.kv_heads != 0)
    throw std::invalid_argument("heads (" + std::to_string(op.heads) + ") must be a multiple of kv_heads (" +
                                std::to_string(op.kv_heads) + ")");
  if (op.causal && op.q_len > op.kv_len)
    throw std::invalid_argument("causal attention needs q_len <= kv_len");
  const std::string dt = resolve_dtype(op.dtype, chip);
  if (dt == "int4" || weight_only_format(dt))
    throw std::invalid_argument("attention does not run at " + dt + " (" + dt + " is a weight format)");
  return dt;
}
}  // namespace

OpCost estimate_attention(const Op& op, const ChipSpec& chip) {
  const std::string dt = checked_attention_dtype(op, chip);
  const std::string cdt = matrix_dtype(dt, chip);
  const ComputeSpec& cs = chip.compute;
  const double fpc = matrix_fpc(cdt, chip);
  const std::int64_t tm = cs.tile_m, tn = cs.tile_n, units = cs.units;
  const double b = dtype_bytes(dt);
  const double d = static_cast<double>(op.head_dim);
  const double dv = op.v_head_dim > 0 ? static_cast<double>(op.v_head_dim) : d;
  const double q = static_cast<double>(op.q_len), kv = static_cast<double>(op.kv_len);

  const std::int64_t group = op.heads / op.kv_heads;
  const std::int64_t rows = op.q_len * group;
  const std::int64_t q_blocks = ceil_div(rows, tm);
  // A lone Q block (a decode's GQA group) is padded to the matrix instruction's rows, not to
  // the GEMM tile: decode kernels (flash-decoding, XQA, paged attention) issue the MMA on
  // the group alone. Weight-stationary arrays pad by their own rule (padded_rows).
  const std::int64_t lone_rows = std::min(padded_rows(rows, chip), ceil_div(rows, cs.mma_m) * cs.mma_m);
  const std::int64_t row_pad = q_blocks == 1 ? lone_rows : tm;
  const std::int64_t kv_steps = ceil_div(op.kv_len, tn);
  // Causal: query i sees the first kv_len - q_len + i + 1 keys, so about half the blocks.
  const double pairs = op.causal && op.q_len > 1 ? q * kv - q * (q - 1) / 2 : q * kv;
  const std::int64_t visited =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(static_cast<double>(kv_steps) * pairs / (q * kv))));
  const double rt = static_cast<double>(row_pad * tn);
  // A kernel written for the previous generation's warp-level MMA (FA2's mma.sync on Hopper)
  // reaches only warp_mma_fraction of the rate the wgmma instructions do ([FA3-paper]).
  const double mma_rate = op.warp_mma ? cs.warp_mma_fraction : 1.0;
  const double matrix_cycles = 2.0 * rt * (d + dv) / fpc / cs.matrix_efficiency / mma_rate;
  // Vector units that state their lanes (`vector_unit`) exponentiate the real rows: a lone Q
  // block's padding rows are the MAC array's. Without it the vector figure is a whole-tile
  // rate (Tensix's SFPU works on 32 x 32 tiles, its rate fitted on C9): padded rows count.
  const bool real_rows = chip.compute.vector_units > 0 && q_blocks == 1;
  const double softmax_rows = static_cast<double>(real_rows ? rows : row_pad);
  const double softmax_cycles = softmax_rows * static_cast<double>(tn) * softmax_cycles_per_score(chip);
  // FA2 runs the softmax of a block between its two matrix phases; FA3's ping-pong hides it
  // under the other warpgroup's matrix phase ([FA2-paper], [FA3-paper]), all but the
  // stack's softmax_exposed share of the shorter phase (the two warpgroups' hand-offs).
  const double longer = std::max(matrix_cycles, softmax_cycles), shorter = std::min(matrix_cycles, softmax_cycles);
  const double step_cycles =
      op.softmax_overlapped ? longer + op.softmax_exposed * shorter : matrix_cycles + softmax_cycles;

  const std::int64_t items = op.batch * op.kv_heads * q_blocks;
  std::int64_t split = 1;
  if (items < units && visited > 1) split = std::min(units / items, visited);

  TileJob job;
  job.items = items * split;
  job.item_cycles = static_cast<double>(ceil_div(visited, split)) * step_cycles + cs.tile_overhead_cycles;
  const double B = static_cast<double>(op.batch);
  // K and V, read once (one tensor of width d when shared, MLA's latent).
  const double kv_bytes = B * static_cast<double>(op.kv_heads) * kv * (op.shared_kv ? d : d + dv) * b;
  const double qo_bytes = B * static_cast<double>(op.heads) * q * (d + dv) * b;  // Q read, O written
  const double partials = split > 1 ? 2.0 * static_cast<double>(split) * B * static_cast<double>(op.heads) * q * dv * kPartialBytes : 0.0;
  job.total_bytes = kv_bytes + qo_bytes + partials;
  job.prologue_bytes = static_cast<double>((row_pad + tn)) * d * b;
  // A paged KV cache: the kernel looks each block up in the block table ([VLLM-PAGED] §7.1).
  if (op.kv_paged) job.paged_bytes = kv_bytes;

  const MemoryTierSpec& tier = op_tier(op, chip, chip.placement.kv_cache);
  OpCost cost;
  cost.dtype = dt;
  cost.tier = tier.tier;
  cost.split_k = split;
  run_waves(job, chip, tier, cost);
  cost.flops = 2.0 * B * static_cast<double>(op.heads) * (d + dv) * pairs;  // Q.K and P.V
  cost.peak = cs.peak.at(cdt);
  cost.energy =
      (cost.flops.value() * chip_pj_per_flop(chip, cdt) + cost.bytes.value() * tier_pj_per_byte(chip, tier)) * 1e-12;
  return cost;
}

}  // namespace opmodel
}  // namespace llmsim
