#include "sim/workloads/inference/lowering.h"

#include <algorithm>

#include "sim/ops/energy.h"

namespace llmsim {

std::int64_t IterationShape::tokens() const {
  std::int64_t t = decode;
  for (const auto& p : prefill) t += p.tokens;
  return t;
}

Lowering::Lowering(const InferenceConfig& cfg, const ChipSpec& chip)
    // A spatial chip reads its weights out of the SRAM of the cores that hold them: that
    // bandwidth is the region's (dataflow.h), so they are streamed, not free.
    : cfg_(cfg), chip_(chip), spatial_chip_(execution_of(chip).spatial()),
      weights_on_chip_(chip.placement.weights == "sram" && !spatial_chip_) {
  for (std::int64_t s = 0; s < cfg_.pp; ++s) {
    residency_.push_back(weight_residency(cfg_, chip_, s));
    if (spatial_chip_) spatial_.push_back(spatial_stage(cfg_, chip_, s));
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

std::vector<Op> Lowering::layer_ops(const IterationShape& s) const {
  const ModelSpec& m = cfg_.model;
  const std::int64_t tp = cfg_.tp, T = s.tokens();
  const std::int64_t h = m.hidden, hd = m.head_dim;
  const std::int64_t qh = m.heads / tp, kvh = m.kv_heads / tp;
  std::vector<Op> ops;
  if (T == 0) return ops;
  ops.push_back(vec(OpKind::Norm, "attn_norm", T, h));
  ops.push_back(gemm("qkv", T, (qh + 2 * kvh) * hd, h));
  ops.push_back(vec(OpKind::Rotary, "rotary", T, (qh + kvh) * hd));
  if (s.decode > 0) {
    Op a;
    a.kind = OpKind::Attention;
    a.name = "attn_decode";
    a.dtype = cfg_.kv_dtype;
    a.batch = s.decode;
    a.heads = qh;
    a.kv_heads = kvh;
    a.head_dim = hd;
    a.q_len = 1;
    // Decode attention streams every sequence's KV once: linear in the sum of lengths,
    // so one op over the mean length costs what the ragged batch costs.
    a.kv_len = (s.decode_kv + s.decode - 1) / s.decode;
    a.causal = false;
    ops.push_back(a);
  }
  for (const auto& p : s.prefill) {
    Op a;
    a.kind = OpKind::Attention;
    a.name = "attn_prefill";
    a.dtype = cfg_.kv_dtype;
    a.batch = 1;
    a.heads = qh;
    a.kv_heads = kvh;
    a.head_dim = hd;
    a.q_len = p.tokens;
    a.kv_len = p.context;
    a.causal = true;
    ops.push_back(a);
  }
  ops.push_back(gemm("attn_out", T, h, qh * hd));
  ops.push_back(vec(OpKind::Norm, "mlp_norm", T, h));
  const std::int64_t up = m.gated_mlp ? 2 : 1;
  if (!m.moe()) {
    ops.push_back(gemm("mlp_up", T, up * m.ffn / tp, h));
    Op act = vec(OpKind::Activation, "mlp_act", T, m.ffn / tp);
    act.flops_per_element = m.gated_mlp ? 2 : 1;  // silu(gate) * up
    ops.push_back(act);
    ops.push_back(gemm("mlp_down", T, h, m.ffn / tp));
  } else {
    // Experts spread over the TP group (expert parallelism = tp); tokens reach them by
    // all-to-all (stage_cost). Routing is taken as uniform: each expert gets
    // T x top-k / experts tokens.
    ops.push_back(gemm("router", T, m.experts, h));
    const std::int64_t local = std::max<std::int64_t>(1, m.experts / tp);
    const std::int64_t ffn_shard = m.experts >= tp ? m.ffn : m.ffn * m.experts / tp;
    const std::int64_t per_expert = std::max<std::int64_t>(1, (T * m.experts_per_token + m.experts - 1) / m.experts);
    ops.push_back(gemm("experts_up", per_expert, up * ffn_shard, h, local));
    Op act = vec(OpKind::Activation, "experts_act", per_expert * local, ffn_shard);
    act.flops_per_element = m.gated_mlp ? 2 : 1;
    ops.push_back(act);
    ops.push_back(gemm("experts_down", per_expert, h, ffn_shard, local));
    if (m.shared_ffn > 0) {
      // Qwen2-MoE shared expert: a dense gated MLP every token runs, TP-sharded like a
      // dense MLP (so it needs its own all-reduce, stage_cost), scaled by a sigmoid gate.
      const std::int64_t shared_shard = (m.shared_ffn + tp - 1) / tp;
      ops.push_back(gemm("shared_up", T, up * shared_shard, h));
      Op sact = vec(OpKind::Activation, "shared_act", T, shared_shard);
      sact.flops_per_element = m.gated_mlp ? 2 : 1;
      ops.push_back(sact);
      ops.push_back(gemm("shared_down", T, h, shared_shard));
      ops.push_back(gemm("shared_gate", T, 1, h));
    }
  }
  return ops;
}

std::vector<Op> Lowering::edge_ops(const IterationShape& s, bool first, bool last) const {
  const ModelSpec& m = cfg_.model;
  std::vector<Op> ops;
  const std::int64_t T = s.tokens();
  if (first && T > 0) ops.push_back(vec(OpKind::Embedding, "embedding", T, m.hidden));
  if (last && s.emitting > 0) {
    ops.push_back(vec(OpKind::Norm, "final_norm", s.emitting, m.hidden));
    // LM head sharded over the vocabulary (vLLM ParallelLMHead), logits of emitting rows only.
    ops.push_back(gemm("lm_head", s.emitting, m.vocab / cfg_.tp, m.hidden));
    ops.push_back(vec(OpKind::Sampling, "sampling", s.emitting, m.vocab));
  }
  return ops;
}

StageCost Lowering::kernel_stage_compute(const IterationShape& s, std::int64_t stage) const {
  StageCost c;
  c.layers = stage_layers(cfg_, stage);
  // Sums one pass of `ops` (returned) and accounts it `times` over.
  auto add = [&](const std::vector<Op>& ops, double times) {
    Seconds once = 0;
    for (const auto& op : ops) {
      OpCost oc = estimate_op(op, chip_);
      once += oc.time;
      c.flops += oc.flops * times;
      c.bytes += oc.bytes * times;
      c.energy += oc.energy * times;
      if (oc.tier == chip_.placement.kv_cache) c.kv_tier_memory += oc.memory_time * times;
    }
    c.compute += once * times;
    return once;
  };
  c.layer_compute = add(layer_ops(s), static_cast<double>(c.layers));
  add(edge_ops(s, stage == 0, stage == cfg_.pp - 1), 1.0);
  return c;
}

void Lowering::charge_spill(StageCost& c, std::int64_t stage) const {
  const WeightResidency& w = residency_[static_cast<std::size_t>(stage)];
  if (w.spilled <= 0 || c.flops <= 0) return;
  // DDR streams concurrently with the staging tier, so the layers last the longer of
  // the two; the spilled bytes and their energy are charged as well.
  const Seconds floor = spill_time(chip_, w.spilled);
  const Seconds layers_time = c.layer_compute * static_cast<double>(c.layers);
  if (floor > layers_time) {
    c.compute += floor - layers_time;
    if (c.layers > 0) c.layer_compute = floor / static_cast<double>(c.layers);
  }
  c.bytes += w.spilled;
  c.energy += w.spilled * tier_pj_per_byte(chip_, chip_.main_tier()) * 1e-12;
}

StageCost Lowering::stage_cost(const IterationShape& s, std::int64_t stage) const {
  StageCost c = spatial_chip_ ? spatial_stage_compute(*this, spatial_[static_cast<std::size_t>(stage)], s, stage,
                                                      stage_layers(cfg_, stage), cfg_.pp)
                              : kernel_stage_compute(s, stage);
  charge_spill(c, stage);
  const double T = static_cast<double>(s.tokens());
  if (cfg_.tp > 1 && T > 0) {
    c.allreduce_bytes = T * cfg_.model.hidden * kActivationBytes;
    // Dense: attention out + MLP out. MoE: attention out, plus the shared expert's out.
    const bool mlp_allreduce = !cfg_.model.moe() || cfg_.model.shared_ffn > 0;
    c.allreduces = (mlp_allreduce ? 2 : 1) * c.layers;
    if (cfg_.model.moe()) {
      // Expert parallelism: each rank dispatches its 1/tp slice of the tokens, top-k copies
      // each, to the experts' owners and gets them back (two all-to-alls per layer, as
      // vLLM/DeepEP with EP over the TP group); they replace the MLP all-reduce.
      c.alltoall_bytes = T / cfg_.tp * cfg_.model.experts_per_token * cfg_.model.hidden * kActivationBytes;
      c.alltoalls = 2 * c.layers;
    }
  }
  if (stage < cfg_.pp - 1) c.send_bytes = T * cfg_.model.hidden * kActivationBytes;
  return c;
}

}  // namespace llmsim
