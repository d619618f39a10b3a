// Lowering of one serving iteration (a continuous batch of prefill chunks and decode
// tokens) into the per-device operators of one pipeline stage, timed with estimate_op.
// All transformer layers of a stage have the same shapes, so a layer is lowered and timed
// ONCE per iteration and multiplied by the stage's layer count: an hour-long trace then
// costs a dozen estimate_op calls per iteration instead of a thousand.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/ops/op.h"
#include "sim/workloads/inference/config.h"
#include "sim/workloads/inference/dataflow.h"

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
  std::int64_t decode = 0;         // sequences decoding one token each
  std::int64_t decode_kv = 0;      // sum of their KV lengths (including the new token)
  std::int64_t emitting = 0;       // sequences producing a token (decodes + finished prefills)
  std::int64_t tokens() const;     // decode + all prefill tokens
};

struct StageCost {
  Seconds compute = 0;             // all ops of the stage on one device (layers x per layer)
  Seconds layer_compute = 0;       // one layer
  double flops = 0;
  Bytes bytes = 0;
  Joules energy = 0;
  // Bandwidth-bound time of the ops that stream the KV tier (chip placement kv_cache, HBM
  // on GPUs): its bytes / the tier's sustained bandwidth. The executor hands these bytes
  // to the device arbiter, where they share the tier with KV moves and collective kernels.
  Seconds kv_tier_memory = 0;
  std::int64_t layers = 0;
  Bytes allreduce_bytes = 0;       // per TP all-reduce (0 when tp == 1)
  std::int64_t allreduces = 0;     // per layer: attention out + MLP out (dense, or the MoE shared expert)
  Bytes alltoall_bytes = 0;        // MoE: per-rank send buffer of one dispatch (or combine)
  std::int64_t alltoalls = 0;      // MoE: dispatch + combine per layer
  Bytes send_bytes = 0;            // activations to the next stage (0 on the last)
};

class Lowering {
 public:
  Lowering(const InferenceConfig& cfg, const ChipSpec& chip);
  // Per-device ops of one transformer layer for this batch (TP-sharded shapes).
  std::vector<Op> layer_ops(const IterationShape& s) const;
  // Per-device ops outside the layers: embedding (first stage), final norm, LM head and
  // sampling (last stage).
  std::vector<Op> edge_ops(const IterationShape& s, bool first, bool last) const;
  StageCost stage_cost(const IterationShape& s, std::int64_t stage) const;

 private:
  Op gemm(const char* name, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t batch = 1) const;
  Op vec(OpKind kind, const char* name, std::int64_t m, std::int64_t n) const;
  StageCost kernel_stage_compute(const IterationShape& s, std::int64_t stage) const;
  // Weights beyond the staging tier stream from the weights tier (dataflow.h): the stage
  // lasts at least their bytes over its bandwidth.
  void charge_spill(StageCost& c, std::int64_t stage) const;
  const InferenceConfig& cfg_;
  const ChipSpec& chip_;
  bool spatial_chip_;     // execution: {model: spatial} (dataflow.h)
  bool weights_on_chip_;
  std::vector<WeightResidency> residency_;  // per stage
  std::vector<SpatialStage> spatial_;       // per stage, spatial chips only (dataflow.h)
};

}  // namespace llmsim
