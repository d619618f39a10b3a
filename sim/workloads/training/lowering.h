// Lowering of one training micro-batch on one model chunk (a pipeline stage, or one of its
// virtual stages) into per-device costs, timed with estimate_op. As in inference
// (sim/workloads/inference/lowering.h), one transformer layer is lowered and timed once
// and multiplied by the chunk's layer count, so a 16,384-device step costs a few dozen
// estimate_op calls, not millions.
#pragma once
#include <cstdint>
#include <map>
#include <vector>

#include "models/network.h"
#include "sim/ops/op.h"
#include "sim/workloads/training/config.h"

namespace llmsim {

// Activations on the wire (bf16/fp16; fp8 training keeps 16-bit activations between GEMMs).
constexpr double kTrainActivationBytes = 2.0;

// One kind of collective a pass runs `count` times on its group, one after another.
struct CommStep {
  CommStep() = default;
  CommStep(CollectiveKind k, Bytes b, std::int64_t n, Seconds ov = 0) : kind(k), bytes(b), count(n), overlap(ov) {}
  CollectiveKind kind = CollectiveKind::AllReduce;
  Bytes bytes = 0;
  std::int64_t count = 0;
  // Compute each occurrence overlaps with (context parallelism's ring hides behind the
  // layer's attention): only max(0, time - overlap) of each is exposed.
  Seconds overlap = 0;
  // TP overlap (the stack's tensor_parallel.comm_overlap; collective matmul [XLA-CM],
  // tp_comm_overlap [NEMO-TPOVERLAP]): the GEMM this collective is decomposed with runs in
  // `chunks` row blocks; the first (gather) / last (scatter) block cannot overlap and is in
  // the pass's compute, the other chunks - 1 run beside the collective: `beside` is their
  // cost over all `count` occurrences. Zero time: the collective runs after the compute.
  OpCost beside;
  std::int64_t chunks = 1;
};

struct PassCost {
  // One device, all ops of the pass (layers x per layer + edge ops) that run before its
  // collectives; with TP overlap less the GEMM chunks that run beside them (CommStep::beside).
  Seconds compute = 0;
  Flops flops = 0;      // hardware FLOPs (recompute included)
  Bytes bytes = 0;
  Joules energy = 0;
  std::vector<CommStep> tp_comm;  // per micro-batch, on the chunk's TP group
  std::vector<CommStep> cp_comm;  // context parallelism: K and V around the CP group
  std::vector<CommStep> ep_comm;  // expert parallelism: token dispatch / combine on the EP group
};

// Adds `n` runs of an operator's cost to a pass (a negative `n` takes them out).
void accumulate(PassCost& p, const OpCost& c, double n);

// One transformer layer's attention core, forward and backward (recompute included).
struct AttentionCost {
  PassCost forward, backward;
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
  // One layer's attention over packed sequences whose documents have these lengths
  // (document-masked: each a causal block of its own; context parallelism gives each
  // rank 1/cp of it), priced as one varlen kernel at the full-length kernel's efficiency.
  AttentionCost attention_cost(const std::vector<std::int64_t>& documents) const;

 private:
  Op gemm(const char* name, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t batch = 1) const;
  Op attention_op(std::int64_t batch, std::int64_t len) const;
  OpCost estimate(const Op& op) const;
  void add_comm(ChunkCost& c) const;
  // The TP collectives of one pass per micro-batch; with the stack's TP overlap each paired
  // with the GEMM(s) it is decomposed with, whose beside-chunks leave `pass` (lowering_tp.cpp).
  std::vector<CommStep> tp_steps(bool forward, std::int64_t layers, PassCost& pass) const;
  CommStep overlapped(CollectiveKind kind, Bytes bytes, std::int64_t count, const std::vector<Op>& gemms,
                      PassCost& pass) const;
  Op vec(OpKind kind, const char* name, std::int64_t m, std::int64_t n) const;
  void add_forward(const std::vector<Op>& ops, double times, PassCost& fwd, PassCost& bwd, double recompute) const;
  void add_fp8_casts(const std::vector<Op>& layer, double times, double recompute, ChunkCost& c) const;
  const TrainingConfig& cfg_;
  const ChipSpec& chip_;
  mutable std::map<std::int64_t, OpCost> attention_memo_;
};

// Model FLOPs per token by PaLM's formula (Chowdhery et al. 2022, Appendix B):
// 6 N + 12 L H Q T (N parameters without the embedding lookup -- active ones for MoE --, L layers, H heads, Q head
// dim, T sequence length; attention counted over the full, not the causal half, matrix).
double model_flops_per_token(const TrainingConfig& cfg);
// The same with recomputation's extra forward passes (hardware FLOPs utilisation):
// + 2 N + 4 L H Q T for full recompute, + 4 L H Q T for selective (attention only).
double hardware_flops_per_token(const TrainingConfig& cfg);

}  // namespace llmsim
