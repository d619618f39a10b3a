#include "sim/workloads/training/lowering.h"

#include <cmath>

#include "sim/ops/bsp.h"
#include "sim/workloads/training/fp8_quantize.h"
#include "sim/workloads/training/memory.h"
#include "sim/workloads/training/weight_streaming.h"

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
// A residual add's gradient passes through to both operands unchanged; the backward adds
// the branch's input gradient into the stream's: one add, the forward's traffic.
constexpr double kResidualBackwardRatio = 1.0;
// Adam per parameter: reads the fp32 master weight, momentum and variance and the 16-bit
// gradient (14 B), writes the three fp32 states and the 16-bit weight (14 B) -- the 16 B of
// state per parameter of ZeRO §3.1, touched once each way; ~12 FLOPs of update.
constexpr double kAdamBytesPerParam = 28.0, kAdamFlopsPerParam = 12.0;

}  // namespace

TrainingLowering::TrainingLowering(const TrainingConfig& cfg, const ChipSpec& chip) : cfg_(cfg), chip_(chip) {}

Op TrainingLowering::gemm(const char* name, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t batch) const {
  Op o;
  o.kind = OpKind::Gemm;
  o.name = name;
  o.dtype = cfg_.dtype;
  o.m = m;
  o.n = n;
  o.k = k;
  o.batch = batch;
  return o;
}

Op TrainingLowering::attention_op(std::int64_t batch, std::int64_t len) const {
  const ModelSpec& m = cfg_.model;
  Op a;
  a.kind = OpKind::Attention;
  a.name = "attention";
  a.dtype = cfg_.dtype == "fp8" ? "bf16" : cfg_.dtype;
  a.batch = batch;
  a.heads = m.heads / cfg_.par.tp;
  a.kv_heads = cfg_.kv_heads_per_rank();
  a.head_dim = m.head_dim;
  a.q_len = len;
  a.kv_len = len;
  a.causal = !m.encoder;  // an encoder's queries see every key: the full S^2 matrix
  // The stack's kernel generation: FA3's ping-pong hides the softmax under the matrix
  // phases, FA2 (and no stack named) runs it between them (docs/models.md "Attention").
  a.softmax_overlapped = cfg_.software.attention_softmax == "overlapped";
  a.softmax_exposed = cfg_.software.attention_softmax_exposed;
  a.warp_mma = cfg_.software.attention_mma == "warp";
  return a;
}

// Context parallelism splits each sequence into 2 x cp chunks and gives rank i chunks i
// and 2cp - 1 - i, so every rank computes 1/cp of the causal attention (Megatron-LM
// context parallelism; Liu et al. 2023 "Ring Attention"): the whole-sequence op's cost / cp.
OpCost TrainingLowering::estimate(const Op& op) const {
  // A forward GEMM's B is a weight. A BSP chip's compiler lays a weight out on the tiles of
  // the matmul that reads it (Poplar's createMatMulInputRHS [GC-poplin]), so only the
  // activations cross the exchange; the backward's W^T and dY operands do cross it.
  Op placed = op;
  if (op.kind == OpKind::Gemm && bsp_of(chip_).on()) placed.weights_on_chip = true;
  OpCost c = estimate_op(placed, chip_);
  if (op.kind != OpKind::Attention || cfg_.par.cp == 1) return c;
  const double share = 1.0 / static_cast<double>(cfg_.par.cp);
  c.time *= share;
  c.compute_time *= share;
  c.flops *= share;
  c.bytes *= share;
  c.energy *= share;
  return c;
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
  const std::int64_t tp = cfg_.par.tp, T = cfg_.tokens_per_rank();
  const std::int64_t h = m.hidden, hd = m.head_dim, qh = m.heads / tp, kvh = cfg_.kv_heads_per_rank();
  // Sequence parallelism runs norms on 1/tp of the tokens (Korthikanti et al. 2022 §4.2.2).
  const std::int64_t Tn = cfg_.par.sequence_parallel ? std::max<std::int64_t>(1, T / tp) : T;
  std::vector<Op> ops;
  ops.push_back(vec(OpKind::Norm, "attn_norm", Tn, h));
  ops.push_back(gemm("qkv", T, (qh + 2 * kvh) * hd, h));
  if (!m.encoder) ops.push_back(vec(OpKind::Rotary, "rotary", T, (qh + kvh) * hd));  // BERT: learned positions
  ops.push_back(attention_op(cfg_.micro_batch, cfg_.seq_len));
  ops.push_back(gemm("attn_out", T, h, qh * hd));
  // Residual adds of the two sub-blocks' outputs into the stream (in the sequence-parallel
  // region, as the norms): each reads two T x h tensors and writes one. A parallel block
  // (PaLM, GPT-J) adds both outputs in one op: three tensors in, one out.
  Op residual = vec(OpKind::Elementwise, "residual_add", Tn, h);
  if (m.parallel_block) residual.bytes = 4.0 * d(Tn) * d(h) * kTrainActivationBytes;
  if (!m.parallel_block) ops.push_back(residual);
  ops.push_back(vec(OpKind::Norm, "mlp_norm", Tn, h));
  const std::int64_t up = m.gated_mlp ? 2 : 1;
  if (!m.moe()) {
    ops.push_back(gemm("mlp_up", T, up * m.ffn / tp, h));
    ops.push_back(vec(OpKind::Activation, "mlp_act", T, m.ffn / tp));
    ops.push_back(gemm("mlp_down", T, h, m.ffn / tp));
    ops.push_back(residual);
    return ops;
  }
  // MoE, balanced routing assumed (as GShard's capacity-bounded, load-balanced router aims
  // for): the ep ranks of an EP group send each other T x top-k token copies, so each of a
  // device's experts / ep experts gets T x top-k x ep / experts tokens; expert weights are
  // sharded over tp (Megatron-Core's expert tensor parallelism = tp).
  const std::int64_t local = m.experts / cfg_.par.ep, k = m.experts_per_token;
  const std::int64_t per_expert = std::max<std::int64_t>(1, (T * k * cfg_.par.ep + m.experts - 1) / m.experts);
  const std::int64_t ffn = std::max<std::int64_t>(1, m.ffn / tp);
  ops.push_back(gemm("router", T, m.experts, h));
  ops.push_back(gemm("experts_up", per_expert, up * ffn, h, local));
  ops.push_back(vec(OpKind::Activation, "experts_act", per_expert * local, ffn));
  ops.push_back(gemm("experts_down", per_expert, h, ffn, local));
  if (m.shared_ffn > 0) {  // Qwen2-MoE shared expert: a dense MLP every token runs
    const std::int64_t sffn = std::max<std::int64_t>(1, m.shared_ffn / tp);
    ops.push_back(gemm("shared_up", T, up * sffn, h));
    ops.push_back(vec(OpKind::Activation, "shared_act", T, sffn));
    ops.push_back(gemm("shared_down", T, h, sffn));
  }
  ops.push_back(residual);
  return ops;
}

void accumulate(PassCost& p, const OpCost& c, double n) {
  p.compute += c.time * n;
  p.flops += c.flops * n;
  p.bytes += c.bytes * n;
  p.energy += c.energy * n;
}

// Accounts `ops` (a forward pass) `times` over: their forward cost, their backward (input
// and weight gradients for GEMMs, 2.5x for attention, 2x for vector ops) and `recompute`
// extra forwards of them inside the backward.
void TrainingLowering::add_forward(const std::vector<Op>& ops, double times, PassCost& fwd, PassCost& bwd,
                                   double recompute) const {
  for (const Op& op : ops) {
    const OpCost f = estimate(op);
    accumulate(fwd, f, times);
    accumulate(bwd, f, times * recompute);
    if (op.kind == OpKind::Gemm) {
      // dX[m,k] = dY[m,n] W^T[n,k]; dW[k,n] = X^T[k,m] dY[m,n]: each the forward's FLOPs.
      // In the forward's precision (an fp8 run's bf16 LM head stays bf16 backward).
      Op dgrad = gemm("dgrad", op.m, op.k, op.n, op.batch), wgrad = gemm("wgrad", op.k, op.n, op.m, op.batch);
      dgrad.dtype = wgrad.dtype = op.dtype;
      accumulate(bwd, estimate_op(dgrad, chip_), times);
      accumulate(bwd, estimate_op(wgrad, chip_), times);
    } else {
      const double ratio = op.kind == OpKind::Attention     ? kAttentionBackwardRatio
                           : op.kind == OpKind::Elementwise ? kResidualBackwardRatio
                                                            : kVectorBackwardRatio;
      accumulate(bwd, f, times * ratio);
    }
  }
}

// fp8 runs: the layer's cast kernels (fp8_quantize.h), `times` over, forward casts again
// for each recomputed forward.
void TrainingLowering::add_fp8_casts(const std::vector<Op>& layer, double times, double recompute, ChunkCost& c) const {
  const Fp8CastOps casts = fp8_cast_ops(cfg_, layer);
  auto acc = [&](PassCost& p, const std::vector<Op>& ops, double n) {
    for (const Op& op : ops) accumulate(p, estimate_op(op, chip_), n);
  };
  acc(c.forward, casts.forward, times);
  acc(c.backward, casts.forward, times * recompute);
  acc(c.backward, casts.backward, times);
}

std::int64_t TrainingLowering::chunk_layers(std::int64_t vstage) const { return training_chunk_layers(cfg_, vstage); }

ChunkCost TrainingLowering::chunk_cost(std::int64_t vstage) const {
  const ModelSpec& m = cfg_.model;
  const std::int64_t tp = cfg_.par.tp, T = cfg_.tokens_per_rank();
  const std::int64_t chunks = cfg_.par.pp * cfg_.par.virtual_stages;
  ChunkCost c;
  c.layers = chunk_layers(vstage);
  const std::vector<Op> layer = layer_forward_ops();
  const std::string& rc = cfg_.par.recompute;
  if (rc == "selective") {  // attention core only (Korthikanti et al. 2022 §5)
    for (const Op& op : layer)  // in order (an encoder has no rotary op before attention)
      add_forward({op}, d(c.layers), c.forward, c.backward, op.kind == OpKind::Attention ? 1 : 0);
  } else {
    add_forward(layer, d(c.layers), c.forward, c.backward, rc == "full" ? 1 : 0);
  }
  if (cfg_.dtype == "fp8") add_fp8_casts(layer, d(c.layers), rc == "full" ? 1 : 0, c);
  const Seconds layers_forward = c.forward.compute, layers_backward = c.backward.compute;
  std::vector<Op> edge;
  if (vstage == 0) edge.push_back(vec(OpKind::Embedding, "embedding", T, m.hidden));
  if (vstage == 0 && m.encoder) edge.push_back(vec(OpKind::Norm, "embedding_norm", T, m.hidden));  // BERT's post-LN
  const std::int64_t head = cfg_.par.head_stage == "first" ? 0 : chunks - 1;
  if (vstage == head && m.encoder) {
    // Masked-LM head on the gathered masked positions only (NVIDIA's and Graphcore's BERT):
    // transform dense + LayerNorm, tied decoder, cross-entropy. The pooler and the
    // next-sentence classifier run on one token per sequence: not charged.
    const std::int64_t Tm = cfg_.micro_batch * cfg_.masked_positions;
    edge.push_back(gemm("mlm_transform", Tm, m.hidden, m.hidden));
    edge.push_back(vec(OpKind::Norm, "mlm_norm", Tm, m.hidden));
    edge.push_back(gemm("mlm_decoder", Tm, m.vocab / tp, m.hidden));
    edge.push_back(vec(OpKind::Softmax, "cross_entropy", Tm, m.vocab / tp));
  } else if (vstage == head) {
    edge.push_back(vec(OpKind::Norm, "final_norm", T, m.hidden));
    edge.push_back(gemm("lm_head", T, m.vocab / tp, m.hidden));  // vocabulary-parallel head
    // fp8 runs only Transformer Engine's layers in fp8: Megatron-Core's output layer is its
    // own ColumnParallelLinear, outside them, so the head stays 16-bit [MCORE-GPT].
    if (cfg_.dtype == "fp8") edge.back().dtype = "bf16";
    edge.push_back(vec(OpKind::Softmax, "cross_entropy", T, m.vocab / tp));
  }
  add_forward(edge, 1, c.forward, c.backward, 0);
  if (cfg_.weight_streaming) apply_weight_streaming(cfg_, chip_, layers_forward, layers_backward, c);
  add_comm(c);
  // Each TP rank sends its 1/tp slice (Megatron-LM's scatter/gather optimisation,
  // Narayanan et al. SC'21 §4.1; with sequence parallelism the slice is all it holds).
  c.send_bytes = d(T) * d(m.hidden) * kTrainActivationBytes / d(tp);
  return c;
}

// The chunk's collectives per micro-batch: TP, CP ring, EP all-to-all.
void TrainingLowering::add_comm(ChunkCost& c) const {
  const ModelSpec& m = cfg_.model;
  const std::int64_t tp = cfg_.par.tp, T = cfg_.tokens_per_rank();
  const std::string& rc = cfg_.par.recompute;
  // A chunk with no layers (Llama 3's embedding-only first chunk) runs no layer collectives.
  if (c.layers == 0) return;
  if (tp > 1) {
    c.forward.tp_comm = tp_steps(true, c.layers, c.forward);
    c.backward.tp_comm = tp_steps(false, c.layers, c.backward);
  }
  if (cfg_.par.cp > 1) {
    // Ring attention: per layer every rank's K and V chunk goes around the CP group (an
    // all-gather's traffic, cp - 1 ring steps) behind the attention compute; backward
    // circulates K and V again and reduce-scatters their gradients (Megatron-LM context
    // parallelism). Size: the gathered K and V of the whole sequence on this TP rank.
    const Bytes kv = d(T) * d(cfg_.par.cp) * 2 * d(cfg_.kv_heads_per_rank()) * d(m.head_dim) * kTrainActivationBytes;
    const AttentionCost a = attention_cost(std::vector<std::int64_t>(static_cast<std::size_t>(cfg_.micro_batch), cfg_.seq_len));
    const std::int64_t recomputes = rc == "none" ? 0 : c.layers;  // recompute re-runs the forward ring
    c.forward.cp_comm = {{CollectiveKind::AllGather, kv, c.layers, a.forward.compute}};
    c.backward.cp_comm = {{CollectiveKind::AllGather, kv, c.layers + recomputes, a.backward.compute},
                          {CollectiveKind::ReduceScatter, kv, c.layers, a.backward.compute}};
  }
  if (m.moe() && cfg_.par.ep > 1) {
    // Dispatch and combine: each TP rank sends its 1/tp of the tokens' top-k copies of the
    // hidden state (GShard / DeepSpeed-MoE all-to-all); backward the same for the gradients.
    const Bytes b = d(T) / d(tp) * d(m.experts_per_token) * d(m.hidden) * kTrainActivationBytes;
    const std::int64_t fwd = 2 * c.layers, bwd = fwd + (rc == "full" ? fwd : 0);
    c.forward.ep_comm = {{CollectiveKind::AllToAll, b, fwd, 0}};
    c.backward.ep_comm = {{CollectiveKind::AllToAll, b, bwd, 0}};
  }
}

// Document masking runs as one variable-length kernel over all of the micro-batch's
// documents (FlashAttention's varlen interface tiles them in one launch), so it is priced
// at the full-length kernel's efficiency: the seq_len op's cost scaled by the causal pairs
// sum L(L+1)/2 over the documents against seq_len(seq_len+1)/2. Tile padding of documents
// shorter than a tile is not charged (optimistic for very short documents).
AttentionCost TrainingLowering::attention_cost(const std::vector<std::int64_t>& documents) const {
  const std::int64_t L = cfg_.seq_len;
  auto it = attention_memo_.find(L);
  if (it == attention_memo_.end()) it = attention_memo_.emplace(L, estimate(attention_op(1, L))).first;
  const OpCost& full = it->second;
  // Causal: L(L+1)/2 pairs per document; an encoder's bidirectional mask: L^2.
  auto pairs_of = [&](std::int64_t len) { return cfg_.model.encoder ? d(len) * d(len) : d(len) * d(len + 1) / 2; };
  double pairs = 0;
  for (std::int64_t len : documents) pairs += pairs_of(len);
  const double share = pairs / pairs_of(L);
  // Backward: FlashAttention-2's 2.5x, plus one forward when recompute redoes attention.
  const double back = kAttentionBackwardRatio + (cfg_.par.recompute == "none" ? 0.0 : 1.0);
  AttentionCost a;
  for (auto [pass, times] : {std::pair<PassCost*, double>{&a.forward, share}, {&a.backward, share * back}}) {
    pass->compute = full.time * times;
    pass->flops = full.flops * times;
    pass->bytes = full.bytes * times;
    pass->energy = full.energy * times;
  }
  return a;
}

OpCost TrainingLowering::optimizer_cost(std::int64_t stage) const {
  if (cfg_.weight_streaming) return OpCost{};  // MemoryX updates the weights off the wafer
  const StageMemory mem = training_memory(cfg_)[static_cast<std::size_t>(stage)];
  const double local = mem.sharded_params;
  Op o = vec(OpKind::Elementwise, "adam", 1, std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(local))));
  o.flops_per_element = kAdamFlopsPerParam;
  o.bytes = local * kAdamBytesPerParam;
  if (const MemoryTierSpec* t = optimizer_tier(chip_)) {
    // States kept apart from the weights (Graphcore's Streaming Memory [GC-PG-hw] [GC-BERT])
    // stream in over that tier's link for the update and back out after it: every state
    // byte once each way. The link is full duplex (the tier's bandwidth is one direction),
    // so one direction's bytes set the time; the 16-bit gradient and weight stay on chip.
    o.stream_tier = t->tier;
    o.bytes = mem.optimizer;
  }
  return estimate_op(o, chip_);
}

double model_flops_per_token(const TrainingConfig& cfg) {
  const ModelSpec& m = cfg.model;
  // The embedding lookup is no matmul; an MoE token runs only its top-k experts (active
  // parameters, as DeepSeek-V3 and Mixtral count training FLOPs).
  const double n = m.active_params() - d(m.vocab) * d(m.hidden);
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
