#include "sim/workloads/inference/lowering.h"

#include <algorithm>
#include <cmath>

#include "sim/ops/energy.h"
#include "sim/workloads/inference/tp_layout.h"

namespace llmsim {

std::int64_t IterationShape::tokens() const {
  std::int64_t t = decode * decode_q;
  for (const auto& p : prefill) t += p.tokens;
  return t;
}

Lowering::Lowering(const InferenceConfig& cfg, const ChipSpec& chip)
    // A spatial chip reads its weights out of the SRAM of the cores that hold them: that
    // bandwidth is the region's (dataflow.h), so they are streamed, not free.
    : cfg_(cfg), chip_(chip), spatial_chip_(execution_of(chip).spatial()),
      weights_on_chip_(chip.placement.weights == "sram" && !spatial_chip_),
      softmax_overlapped_(cfg.software.attention_softmax == "overlapped"),
      warp_mma_(cfg.software.attention_mma == "warp"),
      kv_paged_(cfg.software.attention_kv_cache == "paged"), dtypes_{&cfg.dtype, &cfg.act_dtype, &cfg.kv_dtype} {
  const ModelSpec& m = cfg_.model;
  for (std::int64_t s = 0; s < cfg_.pp; ++s) {
    residency_.push_back(weight_residency(cfg_, chip_, s));
    if (spatial_chip_) spatial_.push_back(spatial_stage(cfg_, chip_, s));
    // Layer variants of this stage: [dense MLP][local attention] counts.
    LayerVariants v{};
    const std::int64_t first = stage_first_layer(cfg_, s);
    for (std::int64_t i = first; i < first + stage_layers(cfg_, s); ++i)
      ++v[i < m.dense_layers ? 1 : 0][static_cast<std::size_t>(m.local_layers_in(i, 1))];
    variants_.push_back(v);
  }
}

Op Lowering::gemm(const char* name, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t batch) const {
  Op o;
  o.kind = OpKind::Gemm;
  o.name = name;
  o.dtype = cfg_.dtype;
  o.m = m;
  o.n = n;
  o.k = k;
  o.batch = batch;
  o.weights_on_chip = weights_on_chip_;
  return o;
}

Op Lowering::vec(OpKind kind, const char* name, std::int64_t m, std::int64_t n) const {
  Op o;
  o.kind = kind;
  o.name = name;
  o.dtype = cfg_.act_dtype;
  o.m = m;
  o.n = n;
  o.elements = m * n;
  return o;
}

Op Lowering::attention(const char* name, std::int64_t batch, std::int64_t q_len, std::int64_t kv_len, bool local) const {
  const ModelSpec& m = cfg_.model;
  Op a;
  a.kind = OpKind::Attention;
  a.name = name;
  a.dtype = cfg_.kv_dtype;
  a.batch = batch;
  a.heads = m.heads / cfg_.tp_heads();
  a.kv_heads = m.kv_heads_per_rank(cfg_.tp_heads());
  a.head_dim = m.head_dim;
  a.q_len = q_len;
  a.kv_len = kv_len;
  a.causal = q_len > 1;
  a.softmax_overlapped = softmax_overlapped_;
  a.softmax_exposed = cfg_.software.attention_softmax_exposed;
  a.warp_mma = warp_mma_;
  const std::int64_t w = m.sliding_window;
  if (!local || w <= 0) return a;
  if (q_len == 1) {
    // Decode over the batch's mean length: min(mean, window) bounds the mean of
    // min(length, window) from above (docs/models.md "Sliding-window attention").
    a.kv_len = std::min(kv_len, w);
  } else if (kv_len - q_len + 1 >= w) {
    // Every query of the chunk sees exactly `w` keys: q_len x w pairs.
    a.kv_len = w;
    a.causal = false;
  }  // else some queries see fewer than w keys: whole-context causal (an overestimate)
  return a;
}

std::int64_t Lowering::per_chip(std::int64_t tokens) const {
  const std::int64_t g = cfg_.tp_tokens();
  return (tokens + g - 1) / g;
}

void Lowering::attention_ops(const IterationShape& s, bool local, std::vector<Op>& ops) const {
  const ModelSpec& m = cfg_.model;
  // Weight-gathered: whole layers (all heads) on a tp-th of the tokens.
  const std::int64_t T = per_chip(s.tokens()), h = m.hidden, hd = m.head_dim, g = cfg_.tp_tokens();
  // 2-D TP (tp_layout.h): heads over tp_rows, h and attention's tokens over tp_cols (c).
  const std::int64_t qh = m.heads / cfg_.tp_heads(), kvh = m.kv_heads_per_rank(cfg_.tp_heads()), c = cfg_.tp_hidden();
  // A chip holds h / c of each token's residual stream, so its norms run on that slice
  // (the row's partial statistics are all-reduced, tp2d_collectives).
  ops.push_back(vec(OpKind::Norm, "attn_norm", T, h / c));
  ops.push_back(gemm("qkv", T, (qh + 2 * kvh) * hd, h / c));
  const auto rotated = static_cast<std::int64_t>(std::llround(static_cast<double>((qh + kvh) * hd) * m.rotary_fraction));
  // 2-D: QKV's partial sums arrive scattered by sequence, so rotary sees T / c tokens.
  ops.push_back(vec(OpKind::Rotary, "rotary", (T + c - 1) / c, std::max<std::int64_t>(1, rotated)));
  if (s.decode > 0) {
    // Decode attention streams every sequence's KV once: linear in the sum of lengths,
    // so one op over the mean length costs what the ragged batch costs.
    // decode_q > 1: speculative verification, k + 1 queries per sequence at the end of
    // its context (not causal among themselves in the cost: k << context).
    // Batch-sharded (2-D, tp_layout.h): every head of a tp-th of the sequences, their whole KV.
    // Weight-gathered: every head of a tp-th of the sequences (tp_heads() is 1).
    const std::int64_t ways = cfg_.decode_batch_sharded ? cfg_.tp : c * g;
    Op a = attention("attn_decode", (s.decode + ways - 1) / ways, s.decode_q, (s.decode_kv + s.decode - 1) / s.decode,
                     local);
    if (cfg_.decode_batch_sharded) {
      a.heads = m.heads;
      a.kv_heads = m.kv_heads;
    }
    a.causal = false;
    a.kv_paged = kv_paged_;
    ops.push_back(a);
  }
  // 2-D: a chip takes 1/c of a chunk's queries, costed as its last ones (an upper bound).
  // Weight-gathered: whole chunks go round the tp chips, and the first chip's are costed
  // (exact for equal chunks); with fewer chunks than chips each is split as in 2-D.
  const bool whole = g > 1 && static_cast<std::int64_t>(s.prefill.size()) >= g;
  const std::int64_t split = whole ? 1 : c * g;
  for (std::size_t i = 0; i < s.prefill.size(); i += whole ? static_cast<std::size_t>(g) : 1) {
    const PrefillChunk& p = s.prefill[i];
    ops.push_back(attention("attn_prefill", 1, (p.tokens + split - 1) / split, p.context, local));
  }
  ops.push_back(gemm("attn_out", T, h / c, qh * hd));
}

// Multi-head latent attention [DEEPSEEK-V2] as vLLM runs it [VLLM-SRC]: prefill decompresses the
// latent into per-head K (nope) and V with kv_b_proj and runs ordinary attention (qk width
// nope + rope, v width v_head_dim); decode absorbs kv_b_proj into the query (W_UK) and the
// output (W_UV) and attends over the cached latent itself, one tensor of
// kv_lora_rank + qk_rope_head_dim shared by all heads, read once. q_a/kv_a are replicated
// over the TP group, the rest sharded by heads.
void Lowering::mla_ops(const IterationShape& s, bool local, std::vector<Op>& ops) const {
  const ModelSpec& m = cfg_.model;
  const std::int64_t T = s.tokens(), h = m.hidden, qh = m.heads / cfg_.tp;
  const std::int64_t lora = m.kv_lora_rank, rope = m.qk_rope_head_dim, nope = m.qk_nope_head_dim;
  ops.push_back(vec(OpKind::Norm, "attn_norm", T, h));
  if (m.q_lora_rank > 0) {
    ops.push_back(gemm("q_a", T, m.q_lora_rank, h));
    ops.push_back(vec(OpKind::Norm, "q_a_norm", T, m.q_lora_rank));
    ops.push_back(gemm("q_b", T, qh * m.qk_dim(), m.q_lora_rank));
  } else {
    ops.push_back(gemm("q_proj", T, qh * m.qk_dim(), h));
  }
  ops.push_back(gemm("kv_a", T, lora + rope, h));
  ops.push_back(vec(OpKind::Norm, "kv_a_norm", T, lora));
  ops.push_back(vec(OpKind::Rotary, "rotary", T, (qh + 1) * rope));
  if (s.decode > 0) {
    ops.push_back(gemm("q_absorb", s.decode, lora, nope, qh));
    Op a = attention("attn_decode", s.decode, 1, (s.decode_kv + s.decode - 1) / s.decode, local);
    a.kv_heads = 1;
    a.head_dim = lora + rope;
    a.v_head_dim = lora;
    a.shared_kv = true;
    a.kv_paged = kv_paged_;
    ops.push_back(a);
    ops.push_back(gemm("v_up", s.decode, m.v_head_dim, lora, qh));
  }
  std::int64_t context = 0;
  for (const auto& p : s.prefill) context += p.context;
  if (context > 0) ops.push_back(gemm("kv_b", context, qh * (nope + m.v_head_dim), lora));
  for (const auto& p : s.prefill) {
    Op a = attention("attn_prefill", 1, p.tokens, p.context, local);
    a.kv_heads = qh;
    a.head_dim = m.qk_dim();
    a.v_head_dim = m.v_head_dim;
    ops.push_back(a);
  }
  ops.push_back(gemm("attn_out", T, h, qh * m.v_head_dim));
}

void Lowering::mlp_ops(std::int64_t T, bool dense, std::vector<Op>& ops) const {
  const ModelSpec& m = cfg_.model;
  // 2-D TP: the FFN over tp_rows, h over tp_cols (a chip's residual slice h / cols).
  const std::int64_t tp = cfg_.tp, h = m.hidden, cols = cfg_.tp_hidden();
  // A parallel block with one norm (GPT-J, Falcon-7B) feeds the MLP the attention's input.
  if (!(m.parallel_block && m.norms_per_layer == 1)) ops.push_back(vec(OpKind::Norm, "mlp_norm", T, h / cols));
  const std::int64_t up = m.gated_mlp ? 2 : 1;
  if (!m.moe() || dense) {
    // The activation is still ffn / tp a chip (2-D), the whole ffn when weights are gathered.
    const std::int64_t ffn = dense && m.dense_ffn > 0 ? m.dense_ffn : m.ffn;
    const std::int64_t width = ffn / (cfg_.tp_heads() * cfg_.tp_hidden());
    const std::int64_t rows = cfg_.tp_heads();
    ops.push_back(gemm("mlp_up", T, up * (ffn / rows), h / cols));
    Op act = vec(OpKind::Activation, "mlp_act", T, width);
    act.flops_per_element = m.gated_mlp ? 2 : 1;  // silu(gate) * up
    ops.push_back(act);
    ops.push_back(gemm("mlp_down", T, h / cols, ffn / rows));
    return;
  }
  // Experts spread over the TP group (expert parallelism = tp); tokens reach them by
  // all-to-all (stage_cost). Routing is taken as uniform: the device's local experts get
  // T x top-k x local / experts tokens, spread over the experts the batch reaches
  // (ModelSpec::expert_touch_fraction); a fused MoE kernel reads only those experts'
  // weights, so a small decode batch does not pay for all of them.
  ops.push_back(gemm("router", T, m.experts, h));
  const std::int64_t local = std::max<std::int64_t>(1, m.experts / tp);
  const std::int64_t ffn_shard = m.experts >= tp ? m.ffn : m.ffn * m.experts / tp;
  const std::int64_t routed = std::max<std::int64_t>(1, (T * m.experts_per_token * local + m.experts - 1) / m.experts);
  const std::int64_t touched = std::clamp<std::int64_t>(
      std::llround(static_cast<double>(local) * m.expert_touch_fraction(static_cast<double>(T))), 1,
      std::min(local, routed));
  const std::int64_t per_expert = (routed + touched - 1) / touched;
  Op experts_up = gemm("experts_up", per_expert, up * ffn_shard, h, touched);
  experts_up.grouped_rows = routed;
  ops.push_back(experts_up);
  Op act = vec(OpKind::Activation, "experts_act", routed, ffn_shard);
  act.flops_per_element = m.gated_mlp ? 2 : 1;
  ops.push_back(act);
  Op experts_down = gemm("experts_down", per_expert, h, ffn_shard, touched);
  experts_down.grouped_rows = routed;
  ops.push_back(experts_down);
  if (m.shared_ffn > 0) {
    // Shared expert(s): a dense gated MLP every token runs, TP-sharded like a dense MLP
    // (so it needs its own all-reduce, stage_cost); Qwen2-MoE scales it by a sigmoid gate.
    const std::int64_t shared_shard = (m.shared_ffn + tp - 1) / tp;
    ops.push_back(gemm("shared_up", T, up * shared_shard, h));
    Op sact = vec(OpKind::Activation, "shared_act", T, shared_shard);
    sact.flops_per_element = m.gated_mlp ? 2 : 1;
    ops.push_back(sact);
    ops.push_back(gemm("shared_down", T, h, shared_shard));
    if (m.shared_gate) ops.push_back(gemm("shared_gate", T, 1, h));
  }
}

std::vector<Op> Lowering::layer_ops(const IterationShape& s, const LayerKind& kind) const {
  std::vector<Op> ops;
  layer_ops(s, kind, ops);
  return ops;
}

void Lowering::layer_ops(const IterationShape& s, const LayerKind& kind, std::vector<Op>& ops) const {
  ops.clear();
  const std::int64_t T = s.tokens();
  if (T == 0) return;
  if (cfg_.model.mla()) {
    mla_ops(s, kind.local, ops);
  } else {
    attention_ops(s, kind.local, ops);
  }
  mlp_ops(per_chip(T), kind.dense_mlp, ops);
}

std::vector<Op> Lowering::edge_ops(const IterationShape& s, bool first, bool last) const {
  std::vector<Op> ops;
  edge_ops(s, first, last, ops);
  return ops;
}

void Lowering::edge_ops(const IterationShape& s, bool first, bool last, std::vector<Op>& ops) const {
  const ModelSpec& m = cfg_.model;
  ops.clear();
  const std::int64_t T = s.tokens();
  if (first && T > 0) ops.push_back(vec(OpKind::Embedding, "embedding", per_chip(T), m.hidden));
  if (last && s.emitting > 0) {
    const std::int64_t rows = per_chip(s.logit_rows());
    ops.push_back(vec(OpKind::Norm, "final_norm", rows, m.hidden));
    // LM head sharded over the vocabulary (vLLM ParallelLMHead), logits of emitting rows only;
    // weight-gathered: the whole head on a tp-th of the rows.
    ops.push_back(gemm("lm_head", rows, m.vocab / (cfg_.weights_gathered ? 1 : cfg_.tp), m.hidden));
    ops.push_back(vec(OpKind::Sampling, "sampling", rows, m.vocab));
    // Self-drafting heads propose the next step's tokens from the emitting rows' states.
    for (Op& o : head_ops(cfg_.spec, m, cfg_.tp, s.emitting, cfg_.dtype, weights_on_chip_)) ops.push_back(o);
  }
}

StageCost Lowering::kernel_stage_compute(const IterationShape& s, std::int64_t stage) const {
  StageCost c;
  c.layers = stage_layers(cfg_, stage);
  // Sums one pass of `ops` (returned) and accounts it `times` over.
  auto add = [&](const std::vector<Op>& ops, double times) {
    Seconds once = 0;
    for (const auto& op : ops) {
      const OpCharge oc = charge(op);
      once += oc.time;
      c.flops += oc.flops * times;
      c.bytes += oc.bytes * times;
      c.energy += oc.energy * times;
      if (oc.on_kv_tier) c.kv_tier_memory += oc.memory_time * times;
      if (oc.memory_bound) c.memory_bound += oc.time * times;
    }
    c.compute += once * times;
    c.kernels += static_cast<std::int64_t>(ops.size() * times);
    return once;
  };
  const LayerVariants& count = variants_[static_cast<std::size_t>(stage)];
  Seconds layers_time = 0;
  for (int dense = 0; dense < 2; ++dense)
    for (int local = 0; local < 2; ++local)
      if (count[dense][local] > 0) {
        const double n = static_cast<double>(count[dense][local]);
        layer_ops(s, {dense == 1, local == 1}, layer_scratch_);
        layers_time += n * add(layer_scratch_, n);
      }
  c.layer_compute = c.layers > 0 ? layers_time / static_cast<double>(c.layers) : Seconds{0};  // the mean layer
  edge_ops(s, stage == 0, stage == cfg_.pp - 1, edge_scratch_);
  add(edge_scratch_, 1.0);
  return c;
}

void Lowering::charge_spill(StageCost& c, std::int64_t stage, std::int64_t tokens) const {
  const WeightResidency& w = residency_[static_cast<std::size_t>(stage)];
  if (w.spilled <= 0 || c.flops <= 0) return;
  // DDR streams concurrently with the staging tier, so the layers last the longer of
  // the two; the spilled bytes and their energy are charged as well.
  const Bytes read = w.spilled - w.spilled_experts +
                     w.spilled_experts * cfg_.model.expert_touch_fraction(static_cast<double>(tokens));
  const Seconds floor = spill_time(chip_, read);
  const Seconds layers_time = c.layer_compute * static_cast<double>(c.layers);
  if (floor > layers_time) {
    c.compute += floor - layers_time;
    if (c.layers > 0) c.layer_compute = floor / static_cast<double>(c.layers);
  }
  c.bytes += read;
  c.energy += read.value() * tier_pj_per_byte(chip_, chip_.main_tier()) * 1e-12;
}

StageCost Lowering::stage_cost(const IterationShape& s, std::int64_t stage) const {
  StageCost c = spatial_chip_ ? spatial_stage_compute(*this, spatial_[static_cast<std::size_t>(stage)], s, stage,
                                                      stage_layers(cfg_, stage), cfg_.pp)
                              : kernel_stage_compute(s, stage);
  charge_spill(c, stage, s.tokens());
  const ModelSpec& m = cfg_.model;
  const std::int64_t first = stage_first_layer(cfg_, stage);
  // The stage's dense (non-MoE) first layers, [first, first + layers) within [0, dense_layers).
  const std::int64_t dense_here =
      std::max<std::int64_t>(0, std::min<std::int64_t>(first + c.layers, m.dense_layers) - first);
  const double T = static_cast<double>(s.tokens());
  if (cfg_.tp2d()) {
    c.tp2d = tp2d_collectives(cfg_, T, static_cast<double>(s.decode * s.decode_q), c.layers);
    for (const TpCollective& k : c.tp2d)  // an axis of one chip has nothing to reduce
      if ((k.columns ? cfg_.tp_rows : cfg_.tp_cols) > 1) c.kernels += k.count;
  } else if (cfg_.weights_gathered) {
    // Each layer's weights, all-gathered over the group before it runs (nccl-tests size:
    // the whole layer; 0 at tp 1).
    if (T > 0) {
      c.gather_bytes = residency_[static_cast<std::size_t>(stage)].gathered_layer;
      c.gathers = c.gather_bytes > 0 ? c.layers : 0;
    }
  } else if (cfg_.tp > 1 && T > 0) {
    c.allreduce_bytes = T * m.hidden * kActivationBytes;
    // Dense: attention out + MLP out, or one when a parallel block sums them first (PaLM,
    // GPT-J, Falcon). MoE: attention out, plus the shared expert's out.
    const bool mlp_allreduce = (!m.moe() || m.shared_ffn > 0) && !m.parallel_block;
    c.allreduces = (mlp_allreduce ? 2 : 1) * c.layers;
    const std::int64_t moe_layers = m.moe() ? c.layers - dense_here : 0;
    if (m.moe() && m.shared_ffn == 0) c.allreduces += dense_here;  // dense first layers' MLP
    if (moe_layers > 0) {
      // Expert parallelism: each rank dispatches its 1/tp slice of the tokens, top-k copies
      // each, to the experts' owners and gets them back (two all-to-alls per layer, as
      // vLLM/DeepEP with EP over the TP group); they replace the MLP all-reduce.
      c.alltoall_bytes = T / cfg_.tp * m.experts_per_token * m.hidden * kActivationBytes;
      c.alltoalls = 2 * moe_layers;
    }
  }
  // The LM head is sharded over the vocabulary (vLLM's ParallelLMHead, TensorRT-LLM's
  // gathered column-parallel head; under 2-D TP over all tp chips, as lm_head is lowered):
  // each rank's 1/tp of every logit row is gathered, in the model's 16-bit dtype, before
  // the sampler reads whole rows.
  // Weight-gathered: each chip has whole rows, and gathers the head's weights instead.
  if (stage == cfg_.pp - 1 && cfg_.tp > 1 && s.logit_rows() > 0) {
    if (cfg_.weights_gathered) {
      c.head_gather_bytes = residency_[static_cast<std::size_t>(stage)].gathered_head;
    } else {
      c.logits_bytes = static_cast<double>(s.logit_rows()) * static_cast<double>(m.vocab) * kActivationBytes;
    }
    c.kernels += 1;
  }
  c.kernels += c.allreduces + c.alltoalls + c.gathers;
  if (stage < cfg_.pp - 1) c.send_bytes = T * cfg_.model.hidden * kActivationBytes;
  return c;
}

}  // namespace llmsim
