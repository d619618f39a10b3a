// Lowering of one training micro-batch on one model chunk (a pipeline stage, or one of its
// virtual stages) into per-device costs, timed with estimate_op. As in inference
// (sim/workloads/inference/lowering.h), one transformer layer is lowered and timed once
// and multiplied by the chunk's layer count, so a 16,384-device step costs a few dozen
// estimate_op calls, not millions.
#pragma once
#include <cstdint>
#include <vector>

#include "models/network.h"
#include "sim/ops/op.h"
#include "sim/workloads/training/config.h"

namespace llmsim {

// One kind of collective a pass runs `count` times on its group, one after another.
struct CommStep {
  CollectiveKind kind = CollectiveKind::AllReduce;
  Bytes bytes = 0;
  std::int64_t count = 0;
};

struct PassCost {
  Seconds compute = 0;  // one device, all ops of the pass (layers x per layer + edge ops)
  double flops = 0;     // hardware FLOPs (recompute included)
  Bytes bytes = 0;
  Joules energy = 0;
  std::vector<CommStep> tp_comm;  // per micro-batch, on the chunk's TP group
};

struct ChunkCost {
  std::int64_t layers = 0;
  PassCost forward, backward;
  Bytes send_bytes = 0;  // activations (forward) or their gradients (backward), per tp rank
};

class TrainingLowering {
 public:
  TrainingLowering(const TrainingConfig& cfg, const ChipSpec& chip);
  // Per-device ops of one transformer layer's forward pass (TP-sharded shapes).
  std::vector<Op> layer_forward_ops() const;
  // Cost of virtual stage `vstage` (= chunk x pp + stage; the plain stage when v = 1).
  ChunkCost chunk_cost(std::int64_t vstage) const;
  // Layers held by virtual stage `vstage`.
  std::int64_t chunk_layers(std::int64_t vstage) const;
  // Adam's update on one device of stage `stage`: 16 bytes read and written per local
  // parameter (after ZeRO-1 sharding); memory-bound.
  OpCost optimizer_cost(std::int64_t stage) const;

 private:
  Op gemm(const char* name, std::int64_t m, std::int64_t n, std::int64_t k) const;
  Op vec(OpKind kind, const char* name, std::int64_t m, std::int64_t n) const;
  void add_forward(const std::vector<Op>& ops, double times, PassCost& fwd, PassCost& bwd, double recompute) const;
  const TrainingConfig& cfg_;
  const ChipSpec& chip_;
};

// Model FLOPs per token by PaLM's formula (Chowdhery et al. 2022, Appendix B):
// 6 N + 12 L H Q T (N parameters without the embedding lookup, L layers, H heads, Q head
// dim, T sequence length; attention counted over the full, not the causal half, matrix).
double model_flops_per_token(const TrainingConfig& cfg);
// The same with recomputation's extra forward passes (hardware FLOPs utilisation):
// + 2 N + 4 L H Q T for full recompute, + 4 L H Q T for selective (attention only).
double hardware_flops_per_token(const TrainingConfig& cfg);

}  // namespace llmsim
