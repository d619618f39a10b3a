// Operators the compute model times, and the pure timing function behind ComputeCore.
// Ramulator-style: timing is a pure function of (op, chip), unit-tested without a kernel.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/ops/access_pattern.h"
#include "sim/spec/chip.h"

namespace llmsim {

enum class OpKind {
  Gemm,          // C[m,n] = A[m,k] * B[k,n], `batch` independent GEMMs (batched GEMM)
  Attention,     // flash-attention style: q_len queries over kv_len keys per sequence
  Elementwise,   // `elements` values, `flops_per_element`, reads+writes `bytes`
  Norm,          // layer / RMS norm over `m` rows of `n`
  Softmax,       // softmax over `m` rows of `n`
  Embedding,     // gather `m` rows of width `n` (bytes by dtype)
  Rotary,        // rotary embedding on `m` tokens x `n` dims
  Activation,    // SiLU / GeLU on `elements`
  Sampling,      // top-k / sampling over `m` rows of vocabulary `n`
  Copy,          // move `bytes` from tier `from` to tier `to`
};

const char* op_kind_name(OpKind k);

// A field estimate_op reads must also join the serving lowering's cost-cache key
// (Lowering::shape_key in sim/workloads/inference/lowering.cpp).
struct Op {
  OpKind kind = OpKind::Gemm;
  std::string name;           // label for timelines ("L3.qkv")
  std::string dtype = "bf16"; // compute dtype; for Gemm with int4 weights: dtype = "int4"
  std::int64_t m = 1, n = 1, k = 1, batch = 1;
  // Grouped GEMM (a fused MoE kernel): the `batch` groups hold this many rows in all,
  // unevenly; `m` is the largest group, which sets the (padded) tiles, and FLOPs count
  // these rows only. 0 = m x batch (every group full).
  std::int64_t grouped_rows = 0;
  // Attention
  std::int64_t heads = 1, kv_heads = 1, head_dim = 128, q_len = 1, kv_len = 1;
  bool causal = true;
  // The attention kernel overlaps the softmax (vector / special-function units) with the
  // matrix phases (FlashAttention-3's ping-pong on Hopper) instead of running it between
  // them (FlashAttention-2); set from the software stack's `attention.softmax`.
  bool softmax_overlapped = false;
  // Of an overlapped softmax, the share of the shorter phase (softmax or matrix) that the
  // overlap does not hide: 0 hides it wholly; set from the stack's `attention.softmax_exposed`.
  double softmax_exposed = 0;
  // The kernel issues the previous generation's warp-level MMA instructions (FlashAttention-2's
  // mma.sync on Hopper): its matrix phases run at chip compute.warp_mma_fraction of the rate;
  // set from the software stack's `attention.mma: warp`.
  bool warp_mma = false;
  // The kernel reads K and V through a block table (a paged KV cache: vLLM's PagedAttention,
  // TensorRT-LLM's paged KV): those bytes stream at the KV tier's `paged_efficiency`; set
  // from the software stack's `attention.kv_cache: paged` on decode attention.
  bool kv_paged = false;
  // Value width when it differs from the query/key width head_dim (MLA: 0 = head_dim), and
  // K and V as one cached tensor read once (MLA's latent in the absorbed form).
  std::int64_t v_head_dim = 0;
  bool shared_kv = false;
  // Elementwise / activation
  std::int64_t elements = 0;
  double flops_per_element = 1;
  // Copy
  Bytes bytes = 0;
  std::string from, to;       // tier names for Copy ("" = the weights tier)
  // Where the op streams its operands from ("" = chip placement: weights tier).
  std::string stream_tier;
  // Weights already resident in on-chip SRAM (Groq/IPU/WSE placement) skip the stream.
  bool weights_on_chip = false;
  // How the op's bytes hit its tier (sequential unless a microbench says `pattern:`); the
  // device arbiter asks the tier's model what that pattern sustains.
  AccessPattern pattern;
};

struct OpCost {
  Seconds time = 0;           // total, including launch overhead
  Seconds compute_time = 0;   // MAC/vector-bound part
  Seconds memory_time = 0;    // bandwidth-bound part
  Flops flops = 0;            // useful FLOPs
  Bytes bytes = 0;            // bytes moved to/from the streaming tier
  std::int64_t tiles = 0;     // tiles dealt to units
  std::int64_t waves = 0;     // ceil(tiles / units)
  Joules energy = 0;          // dynamic energy (idle power is added per device over time)
  bool memory_bound = false;
  // Detail for reports and per-wave timeline spans.
  std::string dtype;          // resolved dtype ("auto" -> the chip's 16-bit type)
  FlopsPerSecond peak = 0;    // chip peak for the compute dtype (vector peak for vector ops)
  BytesPerSecond peak_bandwidth = 0;  // peak of the tier(s) streamed (slower one for copies)
  std::int64_t split_k = 1;   // K (or KV) split used to fill idle units
  Seconds wave_time = 0;      // duration of one full wave (0 for non-tiled ops)
  Seconds last_wave_time = 0; // duration of the final (possibly partial) wave
  Seconds prologue = 0;       // launch + first operand fetch before wave 1 starts
  // Tiers the op streams (the device arbiter shares their bandwidth with whatever else runs):
  // `tier` carries memory_time x its sustained bandwidth; a copy between two tiers also
  // writes `tier_to` (each side moves bytes / 2).
  std::string tier, tier_to;
  AccessPattern pattern;      // the op's access pattern on those tiers (Op::pattern)
};

// "auto" -> the chip's preferred 16-bit type (bf16, else fp16, else its first listed
// dtype); any other name is returned unchanged.
std::string resolve_dtype(const std::string& dtype, const ChipSpec& chip);

// Op names as microbench files spell them ("gemm", "copy", ...); false if unknown.
bool op_kind_from_name(const std::string& name, OpKind& out);
const std::vector<std::string>& op_kind_names();

// Pure timing model (docs/models.md). Throws std::invalid_argument (never InputError) for
// an op the chip cannot run (unsupported dtype, zero shape); callers turn that into a
// positioned error naming op, chip and position.
OpCost estimate_op(const Op& op, const ChipSpec& chip);

}  // namespace llmsim
