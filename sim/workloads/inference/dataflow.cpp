#include "sim/workloads/inference/dataflow.h"
#include "sim/workloads/inference/speculative.h"

#include <algorithm>
#include <cmath>

#include "sim/workloads/inference/lowering.h"

namespace llmsim {

namespace {
// Logits are kept in fp32 for sampling (vLLM's sampler upcasts): bytes per logit.
constexpr double kSampledLogitBytes = 4.0;
}  // namespace

ExecutionSpec execution_of(const ChipSpec& chip) {
  ExecutionSpec e;
  const YAML::Node n = chip.resolved ? chip.resolved["execution"] : YAML::Node();
  if (!n || !n.IsMap()) return e;  // a chip built in code: kernel
  if (n["model"]) e.model = n["model"].as<std::string>();
  if (n["regions"]) e.regions = n["regions"].as<std::string>();
  if (n["mesh_x"]) e.mesh_x = n["mesh_x"].as<int>();
  if (n["mesh_y"]) e.mesh_y = n["mesh_y"].as<int>();
  if (n["hop_cycles"]) e.hop_cycles = n["hop_cycles"].as<double>();
  return e;
}

int mesh_traversals(const Op& op) {
  switch (op.kind) {
    case OpKind::Gemm: return 1;
    case OpKind::Attention: return 2;
    case OpKind::Norm:
    case OpKind::Softmax:
    case OpKind::Sampling: return 1;
    default: return 0;
  }
}

SpatialRegion spatial_region(const ChipSpec& chip, std::int64_t layers_on_chip) {
  const ExecutionSpec e = execution_of(chip);
  SpatialRegion r;
  if (e.regions == "layer" && layers_on_chip > 1) r.fraction = 1.0 / static_cast<double>(layers_on_chip);
  // A region keeps the mesh's aspect ratio: both sides shrink by sqrt(fraction).
  const double side = std::sqrt(r.fraction);
  r.width = std::max(1.0, std::ceil(e.mesh_x * side));
  r.height = std::max(1.0, std::ceil(e.mesh_y * side));
  r.traversal = (r.width + r.height) * e.hop_cycles / chip.clock;
  return r;
}

ChipSpec region_chip(const ChipSpec& chip, double fraction) {
  ChipSpec r = chip;
  if (fraction >= 1.0) return r;
  r.compute.units = std::max(1, static_cast<int>(std::lround(chip.compute.units * fraction)));
  for (auto& p : r.compute.peak) p.second *= fraction;
  r.compute.vector_peak *= fraction;
  for (auto& t : r.memory) {
    if (t.tier == "sram") t.bandwidth *= fraction;  // each core reads only its own SRAM
  }
  return r;
}

WeightResidency weight_residency(const InferenceConfig& cfg, const ChipSpec& chip, std::int64_t stage) {
  const ModelSpec& m = cfg.model;
  const double wb = dtype_bytes(cfg.dtype);
  const double kvb = dtype_bytes(cfg.kv_dtype.empty() ? cfg.dtype : cfg.kv_dtype);
  const double tp = static_cast<double>(cfg.tp);
  const std::int64_t L = stage_layers(cfg, stage);
  double params = m.layers_params(stage_first_layer(cfg, stage), L);
  if (stage == 0) params += m.embedding_params();
  if (stage == cfg.pp - 1) params += m.lm_head_params() + (m.tied_embeddings && cfg.pp > 1 ? m.vocab * m.hidden : 0.0);
  WeightResidency w;
  // The drafter's weights live with the target's (speculative decoding needs pp 1).
  w.weights = params / tp * wb + (stage == 0 ? speculative_weight_bytes(cfg.spec, m, cfg.tp, wb) : 0.0);
  // A chip's tokens (all of them, a tp-th weight-gathered) and its share of their widths
  // (1/tp, or whole layers weight-gathered).
  const double g = static_cast<double>(cfg.tp_tokens()), split = cfg.weights_gathered ? 1.0 : tp;
  const double width =
      m.hidden + static_cast<double>((m.heads + 2 * m.kv_heads) * m.head_dim + (m.gated_mlp ? 2 : 1) * m.ffn) / split;
  w.activations = static_cast<double>(cfg.sched.max_batched_tokens) / g * width * kActivationBytes +
                  static_cast<double>(cfg.sched.max_batch) / g * m.vocab / split * kSampledLogitBytes;
  if (cfg.weights_gathered && cfg.tp > 1 && L > 0) {  // a dense model's layers are alike
    w.gathered_layer = m.layers_params(stage_first_layer(cfg, stage), L) / static_cast<double>(L) * wb;
    w.gathered_head = stage == cfg.pp - 1 ? m.head_matrix_params() * wb : 0.0;
    w.gathered_buffer = std::max(2.0 * w.gathered_layer, w.gathered_head);
  }
  w.resident = w.weights;
  const PlacementSpec& pl = chip.placement;
  const MemoryTierSpec* staging = chip.tier(pl.staging);
  if (pl.staging.empty() || pl.staging == pl.weights || staging == nullptr) return w;
  w.staging_buffer = 2.0 * m.layer_params() / tp * wb;
  const double kv_tok = static_cast<double>(L) * cfg.kv_elements_per_layer_per_rank() * kvb +
                        speculative_kv_bytes_per_token(cfg.spec, cfg.tp, kvb);
  w.kv_reserve = pl.kv_cache == pl.staging ? static_cast<double>(cfg.sched.max_batched_tokens) * kv_tok : 0.0;
  // The staging tier gives weights what the engine may use of it after the activations,
  // the double buffer and one iteration's KV; the rest stays behind in the weights tier.
  double usable = staging->capacity * cfg.sched.memory_utilization - w.staging_buffer - w.kv_reserve;
  if (pl.activations == pl.staging) usable -= w.activations;
  w.resident = std::clamp(usable, 0.0, w.weights.value());
  w.spilled = w.weights - w.resident;
  if (m.moe()) {
    const std::int64_t first = stage_first_layer(cfg, stage);
    const std::int64_t moe_layers =
        L - std::max<std::int64_t>(0, std::min<std::int64_t>(first + L, m.dense_layers) - first);
    const double experts = m.expert_params() * static_cast<double>(m.experts * moe_layers) / tp * wb;
    w.spilled_experts = std::min(w.spilled, Bytes{experts});
  }
  return w;
}

Seconds spill_time(const ChipSpec& chip, Bytes bytes) {
  if (bytes <= 0) return 0;
  const MemoryTierSpec& t = chip.main_tier();
  return bytes / (t.bandwidth * t.efficiency);
}

SpatialStage spatial_stage(const InferenceConfig& cfg, const ChipSpec& chip, std::int64_t stage) {
  SpatialStage st;
  st.region = spatial_region(chip, stage_layers(cfg, stage));
  st.chip = region_chip(chip, st.region.fraction);
  return st;
}

namespace {

// One pass of `ops` on the region: operator times plus one region traversal per dependent
// operator. `c` (when given) accounts flops, bytes, energy and kernels `times` over: each op
// is a program the runtime dispatches (tt-metal runs one op at a time on the core grid), so
// an uncaptured step pays the stack's launch overhead per op, as a kernel chip's does.
Seconds region_pass(const std::vector<Op>& ops, const SpatialStage& st, StageCost* c, double times) {
  Seconds t = 0;
  int traversals = 0;
  if (c != nullptr) c->kernels += static_cast<std::int64_t>(static_cast<double>(ops.size()) * times);
  for (const auto& op : ops) {
    const OpCost oc = estimate_op(op, st.chip);
    t += oc.time;
    traversals += mesh_traversals(op);
    if (c != nullptr) {
      c->flops += oc.flops * times;
      c->bytes += oc.bytes * times;
      c->energy += oc.energy * times;
      // A region spanning the chip shares the KV tier with KV moves as a kernel chip does;
      // a layer region's share is the compiler's and is not arbitrated.
      if (st.region.fraction >= 1.0 && oc.tier == st.chip.placement.kv_cache)
        c->kv_tier_memory += oc.memory_time * times;
    }
  }
  return t + traversals * st.region.traversal;
}

// The first token of a batch, alone: what each further layer region adds while the
// pipeline fills.
IterationShape one_token(const IterationShape& s) {
  IterationShape one;
  one.decode = 1;
  one.emitting = 1;
  std::int64_t kv = s.decode > 0 ? (s.decode_kv + s.decode - 1) / s.decode : 1;
  for (const auto& p : s.prefill) kv = std::max(kv, p.context);
  one.decode_kv = kv;
  return one;
}

}  // namespace

StageCost spatial_stage_compute(const Lowering& lowering, const SpatialStage& st, const IterationShape& s,
                                std::int64_t stage, std::int64_t layers, std::int64_t pp) {
  StageCost c;
  c.layers = layers;
  const double L = static_cast<double>(layers);
  const Seconds batch_pass = region_pass(lowering.layer_ops(s), st, &c, L);
  Seconds layers_time = L * batch_pass;
  if (st.region.fraction < 1.0 && s.tokens() > 1 && layers > 1) {
    // Layer pipelining: every region works on the whole batch once, in parallel with the
    // others; the last region starts when the first token has crossed the L - 1 before it.
    layers_time = batch_pass + (L - 1) * region_pass(lowering.layer_ops(one_token(s)), st, nullptr, 0);
  }
  c.layer_compute = layers_time / L;
  c.compute = layers_time + region_pass(lowering.edge_ops(s, stage == 0, stage == pp - 1), st, &c, 1.0);
  return c;
}

}  // namespace llmsim
