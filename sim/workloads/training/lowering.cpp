#include "sim/workloads/training/lowering.h"

#include <cmath>

#include "sim/workloads/training/memory.h"

namespace llmsim {
namespace {

double d(std::int64_t v) { return static_cast<double>(v); }

// Backward of an attention core costs 2.5x its forward: FlashAttention-2 runs five
// matmuls backward against two forward (Dao 2023, "FlashAttention-2", §3.1 and §4).
constexpr double kAttentionBackwardRatio = 2.5;
// Norms, activations, rotary and the embedding read the saved input and the incoming
// gradient and write one gradient: taken as twice their forward traffic (an assumption;
// they are a few percent of a layer).
constexpr double kVectorBackwardRatio = 2.0;
// Activations on the wire (bf16/fp16; fp8 training keeps 16-bit activations between GEMMs).
constexpr double kActivationBytes = 2.0;
// Adam per parameter: reads the fp32 master weight, momentum and variance and the 16-bit
// gradient (14 B), writes the three fp32 states and the 16-bit weight (14 B) -- the 16 B of
// state per parameter of ZeRO §3.1, touched once each way; ~12 FLOPs of update.
constexpr double kAdamBytesPerParam = 28.0, kAdamFlopsPerParam = 12.0;

}  // namespace

TrainingLowering::TrainingLowering(const TrainingConfig& cfg, const ChipSpec& chip) : cfg_(cfg), chip_(chip) {}

Op TrainingLowering::gemm(const char* name, std::int64_t m, std::int64_t n, std::int64_t k) const {
  Op o;
  o.kind = OpKind::Gemm;
  o.name = name;
  o.dtype = cfg_.dtype;
  o.m = m;
  o.n = n;
  o.k = k;
  return o;
}

Op TrainingLowering::vec(OpKind kind, const char* name, std::int64_t m, std::int64_t n) const {
  Op o;
  o.kind = kind;
  o.name = name;
  o.dtype = "auto";
  o.m = m;
  o.n = n;
  o.elements = m * n;
  return o;
}

std::vector<Op> TrainingLowering::layer_forward_ops() const {
  const ModelSpec& m = cfg_.model;
  const std::int64_t tp = cfg_.par.tp, T = cfg_.micro_batch * cfg_.seq_len;
  const std::int64_t h = m.hidden, hd = m.head_dim, qh = m.heads / tp, kvh = m.kv_heads / tp;
  // Sequence parallelism runs norms on 1/tp of the tokens (Korthikanti et al. 2022 §4.2.2).
  const std::int64_t Tn = cfg_.par.sequence_parallel ? std::max<std::int64_t>(1, T / tp) : T;
  std::vector<Op> ops;
  ops.push_back(vec(OpKind::Norm, "attn_norm", Tn, h));
  ops.push_back(gemm("qkv", T, (qh + 2 * kvh) * hd, h));
  ops.push_back(vec(OpKind::Rotary, "rotary", T, (qh + kvh) * hd));
  Op a;
  a.kind = OpKind::Attention;
  a.name = "attention";
  a.dtype = cfg_.dtype == "fp8" ? "bf16" : cfg_.dtype;
  a.batch = cfg_.micro_batch;
  a.heads = qh;
  a.kv_heads = kvh;
  a.head_dim = hd;
  a.q_len = cfg_.seq_len;
  a.kv_len = cfg_.seq_len;
  a.causal = true;
  ops.push_back(a);
  ops.push_back(gemm("attn_out", T, h, qh * hd));
  ops.push_back(vec(OpKind::Norm, "mlp_norm", Tn, h));
  const std::int64_t up = m.gated_mlp ? 2 : 1;
  ops.push_back(gemm("mlp_up", T, up * m.ffn / tp, h));
  Op act = vec(OpKind::Activation, "mlp_act", T, m.ffn / tp);
  ops.push_back(act);
  ops.push_back(gemm("mlp_down", T, h, m.ffn / tp));
  return ops;
}

// Accounts `ops` (a forward pass) `times` over: their forward cost, their backward (input
// and weight gradients for GEMMs, 2.5x for attention, 2x for vector ops) and `recompute`
// extra forwards of them inside the backward.
void TrainingLowering::add_forward(const std::vector<Op>& ops, double times, PassCost& fwd, PassCost& bwd,
                                   double recompute) const {
  auto acc = [&](PassCost& p, const OpCost& c, double n) {
    p.compute += c.time * n;
    p.flops += c.flops * n;
    p.bytes += c.bytes * n;
    p.energy += c.energy * n;
  };
  for (const Op& op : ops) {
    const OpCost f = estimate_op(op, chip_);
    acc(fwd, f, times);
    acc(bwd, f, times * recompute);
    if (op.kind == OpKind::Gemm) {
      // dX[m,k] = dY[m,n] W^T[n,k]; dW[k,n] = X^T[k,m] dY[m,n]: each the forward's FLOPs.
      acc(bwd, estimate_op(gemm("dgrad", op.m, op.k, op.n), chip_), times);
      acc(bwd, estimate_op(gemm("wgrad", op.k, op.n, op.m), chip_), times);
    } else {
      acc(bwd, f, times * (op.kind == OpKind::Attention ? kAttentionBackwardRatio : kVectorBackwardRatio));
    }
  }
}

std::int64_t TrainingLowering::chunk_layers(std::int64_t vstage) const {
  const std::int64_t v = cfg_.par.virtual_stages;
  if (v == 1) return training_stage_layers(cfg_, vstage);
  return cfg_.model.layers / (cfg_.par.pp * v);
}

ChunkCost TrainingLowering::chunk_cost(std::int64_t vstage) const {
  const ModelSpec& m = cfg_.model;
  const std::int64_t tp = cfg_.par.tp, T = cfg_.micro_batch * cfg_.seq_len;
  const std::int64_t chunks = cfg_.par.pp * cfg_.par.virtual_stages;
  ChunkCost c;
  c.layers = chunk_layers(vstage);
  const std::vector<Op> layer = layer_forward_ops();
  const std::string& rc = cfg_.par.recompute;
  if (rc == "selective") {  // attention core only (Korthikanti et al. 2022 §5)
    add_forward(std::vector<Op>(layer.begin(), layer.end() - 6), d(c.layers), c.forward, c.backward, 0);
    add_forward({layer[3]}, d(c.layers), c.forward, c.backward, 1);
    add_forward(std::vector<Op>(layer.begin() + 4, layer.end()), d(c.layers), c.forward, c.backward, 0);
  } else {
    add_forward(layer, d(c.layers), c.forward, c.backward, rc == "full" ? 1 : 0);
  }
  std::vector<Op> edge;
  if (vstage == 0) edge.push_back(vec(OpKind::Embedding, "embedding", T, m.hidden));
  if (vstage == chunks - 1) {
    edge.push_back(vec(OpKind::Norm, "final_norm", T, m.hidden));
    edge.push_back(gemm("lm_head", T, m.vocab / tp, m.hidden));  // vocabulary-parallel head
    edge.push_back(vec(OpKind::Softmax, "cross_entropy", T, m.vocab / tp));
  }
  add_forward(edge, 1, c.forward, c.backward, 0);
  if (tp > 1) {
    // Megatron-LM: two all-reduces per layer forward (attention and MLP outputs) and two
    // backward (their input gradients); with sequence parallelism each becomes an
    // all-gather before and a reduce-scatter after (same bytes, Korthikanti §4.2.2).
    // Full recompute re-runs the forward's two inside the backward.
    const Bytes b = d(T) * d(m.hidden) * kActivationBytes;
    const std::int64_t fwd = 2 * c.layers, bwd = fwd + (rc == "full" ? fwd : 0);
    auto steps = [&](std::int64_t n) {
      if (!cfg_.par.sequence_parallel) return std::vector<CommStep>{{CollectiveKind::AllReduce, b, n}};
      return std::vector<CommStep>{{CollectiveKind::AllGather, b, n}, {CollectiveKind::ReduceScatter, b, n}};
    };
    c.forward.tp_comm = steps(fwd);
    c.backward.tp_comm = steps(bwd);
  }
  // Each TP rank sends its 1/tp slice (Megatron-LM's scatter/gather optimisation,
  // Narayanan et al. SC'21 §4.1; with sequence parallelism the slice is all it holds).
  c.send_bytes = d(T) * d(m.hidden) * kActivationBytes / d(tp);
  return c;
}

OpCost TrainingLowering::optimizer_cost(std::int64_t stage) const {
  const double params = training_memory(cfg_)[static_cast<std::size_t>(stage)].params;
  const double local = params / (cfg_.par.zero >= 1 ? d(cfg_.par.dp) : 1.0);
  Op o = vec(OpKind::Elementwise, "adam", 1, std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(local))));
  o.flops_per_element = kAdamFlopsPerParam;
  o.bytes = local * kAdamBytesPerParam;
  return estimate_op(o, chip_);
}

double model_flops_per_token(const TrainingConfig& cfg) {
  const ModelSpec& m = cfg.model;
  const double n = m.params() - d(m.vocab) * d(m.hidden);  // the embedding lookup is no matmul
  return 6 * n + 12 * d(m.layers) * d(m.heads) * d(m.head_dim) * d(cfg.seq_len);
}

double hardware_flops_per_token(const TrainingConfig& cfg) {
  const ModelSpec& m = cfg.model;
  const double attention = 4 * d(m.layers) * d(m.heads) * d(m.head_dim) * d(cfg.seq_len);
  double f = model_flops_per_token(cfg);
  if (cfg.par.recompute == "full") f += (model_flops_per_token(cfg) - 3 * attention) / 3 + attention;
  if (cfg.par.recompute == "selective") f += attention;
  return f;
}

}  // namespace llmsim
