// Internals shared by the operator models (gemm.cpp, attention.cpp, op.cpp). Not for
// callers outside sim/ops: they use estimate_op.
#pragma once
#include <cstdint>
#include <string>

#include "sim/ops/op.h"

namespace llmsim {
namespace opmodel {

// Independent tile jobs dealt to the chip's units in waves (docs/models.md "Tiles and
// waves"). A wave lasts max(compute of one item, the wave's bytes over the stream tier):
// double buffering overlaps the next operand fetch with the current MACs.
struct TileJob {
  std::int64_t items = 0;      // work items (output tiles x splits)
  double item_cycles = 0;      // compute cycles of one item, incl. per-tile overhead
  Bytes total_bytes = 0;       // stream-tier bytes of the whole op (split evenly over items)
  Bytes prologue_bytes = 0;    // per-unit bytes fetched before the first MAC (not overlapped)
  // Units that fetch them: min(prologue_items, units); 0 = items. A weight-stationary split
  // of M into more row blocks (block_rows) fills units with smaller blocks of the same
  // weight tiles, so the first wave's fetch is counted on the unsplit tiles.
  std::int64_t prologue_items = 0;
  // Of total_bytes, those read through a block table (a paged KV cache): they stream at
  // the tier's paged_efficiency of its sustained bandwidth.
  Bytes paged_bytes = 0;
};

// Fills time / compute_time / memory_time / tiles / waves / wave_time / last_wave_time /
// prologue / bytes / memory_bound of `cost`.
void run_waves(const TileJob& job, const ChipSpec& chip, const MemoryTierSpec& tier, OpCost& cost);

// The dtype the MAC array runs for `dtype`: int4 weights run at the chip's int4 rate if
// listed, else bf16 / fp16 / int8 (w4a16 dequantises in the operand path); w8a16 weights
// always run at bf16, else fp16 (weight-only: 16-bit activations on any chip). Throws
// std::invalid_argument naming the chip when it has none of them.
std::string matrix_dtype(const std::string& dtype, const ChipSpec& chip);

// Rows an output tile of `rows` (< tile_m) occupies on the MAC array: output-stationary
// arrays (GPU tensor cores, Gaudi MME, Tensix FPU) pad to the full tile; arrays that stream
// rows through stationary weights (TPU MXU, Groq MXM, WSE, IPU AMP, RDU PCU) pad only to
// their row granularity.
std::int64_t padded_rows(std::int64_t rows, const ChipSpec& chip);

// True for the arrays that stream rows through stationary weights (padded_rows pads them
// to a row granularity below tile_m).
bool streams_rows(const ChipSpec& chip);

// Rows per item of a GEMM whose M is dealt out in row blocks with `items_per_block` items
// (column tiles x batch x split-K) each. Output-stationary arrays: full tiles, a lone row
// block padded by padded_rows. Weight-stationary arrays: at least ceil(M / tile_m) blocks,
// as many more as keep the wave count (the compiler splits M to fill the last wave), each
// of ceil(M / blocks) rows padded to the row granularity. `blocks` gets the block count.
std::int64_t block_rows(std::int64_t m, std::int64_t items_per_block, const ChipSpec& chip, std::int64_t& blocks);

// Per-unit matrix FLOP per cycle at matrix dtype `cdt`: the unit's rate, capped where its
// tensor instructions take every operand from its own SRAM (operand_accesses_per_mac) at
// what that SRAM feeds: 2 x (sram bytes per clock per unit) / (accesses x operand bytes)
// (docs/models.md "Operand feed").
double matrix_fpc(const std::string& cdt, const ChipSpec& chip);

// Tier an op streams from: op.stream_tier, else `fallback` ("" = chip stream tier).
const MemoryTierSpec& op_tier(const Op& op, const ChipSpec& chip, const std::string& fallback);

// Throws std::invalid_argument "<what> must be positive (got N)".
void require_positive(std::int64_t v, const char* what);

std::int64_t ceil_div(std::int64_t a, std::int64_t b);

// Per-unit vector FLOP per cycle (vector_peak / (units x clock)).
double vector_fpc(const ChipSpec& chip);
FlopsPerSecond vector_peak(const ChipSpec& chip);
// Per-unit cycles of the softmax of one attention score: its vector FLOPs and its exp on the
// special-function units run on separate pipes (the slower sets the rate); a chip without
// `vector_unit` data counts the exp among the vector FLOPs (docs/models.md "Attention").
double softmax_cycles_per_score(const ChipSpec& chip);
// Time of `special` exp / rcp / rsqrt results on the chip's special-function units (0 when
// the chip states none: folded into its vector rate).
Seconds special_time(double special, const ChipSpec& chip);

OpCost estimate_gemm(const Op& op, const ChipSpec& chip);
OpCost estimate_attention(const Op& op, const ChipSpec& chip);

}  // namespace opmodel
}  // namespace llmsim
