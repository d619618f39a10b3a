// Lowering of one serving iteration (a continuous batch of prefill chunks and decode
// tokens) into the per-device operators of one pipeline stage, timed with estimate_op.
// Layers of a stage share their shapes up to a few variants (LayerKind), so each variant is
// lowered and timed ONCE per iteration and multiplied by its layer count: an hour-long
// trace then costs a dozen estimate_op calls per iteration instead of a thousand.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/ops/op.h"
#include "sim/workloads/inference/config.h"
#include "sim/workloads/inference/dataflow.h"
#include "sim/workloads/inference/tp_layout.h"

namespace llmsim {

// Activation element size on the wire and in the residual stream (bf16/fp16 activations,
// as vLLM/TensorRT-LLM keep them even with fp8 weights).
constexpr double kActivationBytes = 2.0;

struct PrefillChunk {
  std::int64_t tokens = 0;   // prompt tokens computed this iteration
  std::int64_t context = 0;  // KV length after them (prefix already cached + tokens)
};

struct IterationShape {
  std::vector<PrefillChunk> prefill;
  std::int64_t decode = 0;         // sequences decoding (decode_q tokens each)
  std::int64_t decode_kv = 0;      // sum of their KV lengths (including the new tokens)
  std::int64_t emitting = 0;       // sequences producing a token (decodes + finished prefills)
  // Positions per decoding sequence: 1, or k + 1 when verifying speculative proposals
  // (speculative.h), each of which needs its logits.
  std::int64_t decode_q = 1;
  std::int64_t tokens() const;     // decode x decode_q + all prefill tokens
  std::int64_t logit_rows() const { return emitting + decode * (decode_q - 1); }
};

struct StageCost {
  Seconds compute = 0;             // all ops of the stage on one device (layers x per layer)
  Seconds layer_compute = 0;       // one layer
  Flops flops = 0;
  Bytes bytes = 0;
  Joules energy = 0;
  // Bandwidth-bound time of the ops that stream the KV tier (chip placement kv_cache, HBM
  // on GPUs): its bytes / the tier's sustained bandwidth. The executor hands these bytes
  // to the device arbiter, where they share the tier with KV moves and collective kernels.
  Seconds kv_tier_memory = 0;
  std::int64_t layers = 0;
  // Kernels one device launches for the stage (ops, layers x per layer, plus one per
  // collective): what an eager host must launch (SoftwareStack::launch_time).
  std::int64_t kernels = 0;
  Seconds memory_bound = 0;        // time of the memory-bound ops (the time split's "memory")
  Bytes allreduce_bytes = 0;       // per TP all-reduce (0 when tp == 1)
  std::int64_t allreduces = 0;     // per layer: attention out + MLP out (dense, or the MoE shared expert)
  Bytes alltoall_bytes = 0;        // MoE: per-rank send buffer of one dispatch (or combine)
  std::int64_t alltoalls = 0;      // MoE: dispatch + combine per layer
  Bytes send_bytes = 0;            // activations to the next stage (0 on the last)
  // The last stage's vocab-sharded logits, all-gathered over the TP group before sampling
  // (0 elsewhere and at tp 1).
  Bytes logits_bytes = 0;
  // 2-D tensor parallelism's collectives instead of the all-reduces (tp_layout.h).
  std::vector<TpCollective> tp2d;
  // Weight-gathered layout (config.h weights_gathered), instead of the all-reduces and the
  // logits: one layer's weights all-gathered over the group (nccl-tests size), `gathers`
  // times (its layers), and on the last stage the LM head's weights once.
  Bytes gather_bytes = 0;
  std::int64_t gathers = 0;
  Bytes head_gather_bytes = 0;
};

// Which of a model's layer variants: DeepSeek's dense first layers (an MLP of
// intermediate_size instead of experts), sliding-window (local) attention layers.
struct LayerKind {
  bool dense_mlp = false;
  bool local = false;
};

// What one op adds to a stage's cost (the OpCost fields kernel_stage_compute sums).
struct OpCharge {
  Seconds time = 0;
  Seconds memory_time = 0;
  Flops flops = 0;
  Bytes bytes = 0;
  Joules energy = 0;
  bool memory_bound = false;
  bool on_kv_tier = false;  // streams the chip's KV tier (placement kv_cache)
};

// Every Op field estimate_op reads, as exact integers (doubles by their bit pattern, the
// dtype as its index among the Lowering's dtypes): two ops with equal keys cost the same.
struct OpShapeKey {
  std::array<std::int64_t, 23> fields{};
  bool operator==(const OpShapeKey& o) const { return fields == o.fields; }
  std::uint64_t hash() const;
};

class Lowering {
 public:
  Lowering(const InferenceConfig& cfg, const ChipSpec& chip);
  // Per-device ops of one transformer layer for this batch (TP-sharded shapes).
  std::vector<Op> layer_ops(const IterationShape& s, const LayerKind& kind = {}) const;
  void layer_ops(const IterationShape& s, const LayerKind& kind, std::vector<Op>& ops) const;  // into `ops` (cleared)
  // Per-device ops outside the layers: embedding (first stage), final norm, LM head and
  // sampling (last stage).
  std::vector<Op> edge_ops(const IterationShape& s, bool first, bool last) const;
  void edge_ops(const IterationShape& s, bool first, bool last, std::vector<Op>& ops) const;  // into `ops` (cleared)
  StageCost stage_cost(const IterationShape& s, std::int64_t stage) const;

 private:
  Op gemm(const char* name, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t batch = 1) const;
  // A chip's share of `tokens` rows: all of them, or a tp-th (rounded up) weight-gathered.
  std::int64_t per_chip(std::int64_t tokens) const;
  Op vec(OpKind kind, const char* name, std::int64_t m, std::int64_t n) const;
  // Attention of one layer: Q/K/V projections, rotary, attention, output projection.
  void attention_ops(const IterationShape& s, bool local, std::vector<Op>& ops) const;
  void mla_ops(const IterationShape& s, bool local, std::vector<Op>& ops) const;
  void mlp_ops(std::int64_t T, bool dense, std::vector<Op>& ops) const;
  // Attention op over a window: local layers see at most sliding_window keys per query.
  Op attention(const char* name, std::int64_t batch, std::int64_t q_len, std::int64_t kv_len, bool local) const;
  StageCost kernel_stage_compute(const IterationShape& s, std::int64_t stage) const;
  // estimate_op of `op`, memoised: the same shapes recur every few iterations (every op
  // but attention depends on the token count only), and estimate_op is pure.
  OpCharge charge(const Op& op) const;
  bool shape_key(const Op& op, OpShapeKey& key) const;  // false: not memoisable
  OpCharge charge_uncached(const Op& op) const;
  // Weights beyond the staging tier stream from the weights tier (dataflow.h): the stage
  // lasts at least their bytes over its bandwidth.
  void charge_spill(StageCost& c, std::int64_t stage, std::int64_t tokens) const;
  const InferenceConfig& cfg_;
  const ChipSpec& chip_;
  bool spatial_chip_;     // execution: {model: spatial} (dataflow.h)
  bool weights_on_chip_;
  // The software stack's attention kernel, read once (attention() runs every iteration).
  bool softmax_overlapped_, warp_mma_, kv_paged_;
  std::vector<WeightResidency> residency_;  // per stage
  std::vector<SpatialStage> spatial_;       // per stage, spatial chips only (dataflow.h)
  // Per stage: its layers counted by [dense MLP][local attention] (fixed by the model, so
  // counted once here rather than layer by layer every iteration).
  using LayerVariants = std::array<std::array<std::int64_t, 2>, 2>;
  std::vector<LayerVariants> variants_;
  std::array<const std::string*, 3> dtypes_;  // weights, activations, KV (the key's dtype index)
  // A direct-mapped cache of a pure function (so mutable in const methods): a slot holds
  // the last op whose key hashed to it; an op's charge never depends on what is cached, so
  // results do not either. Fixed size: prefill shapes that never recur only evict.
  struct ChargeSlot {
    bool used = false;
    OpShapeKey key;
    OpCharge charge;
  };
  mutable std::vector<ChargeSlot> charges_;
  // Scratch op lists reused by every iteration (no reallocation per iteration).
  mutable std::vector<Op> layer_scratch_, edge_scratch_;
};

}  // namespace llmsim
