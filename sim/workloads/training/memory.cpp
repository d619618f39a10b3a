#include "sim/workloads/training/memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/core/error.h"
#include "sim/workloads/training/schedule.h"

namespace llmsim {
namespace {

// Mixed-precision Adam, per parameter (Rajbhandari et al. SC'20 "ZeRO" §3.1): 16-bit
// weights and gradients, and fp32 master weights, momentum and variance (K = 12). fp8
// training keeps the same stored copies (Transformer Engine casts to fp8 per GEMM).
constexpr double kWeightBytes = 2, kGradientBytes = 2, kOptimizerBytes = 12;
// Megatron-LM DistributedDataParallel: gradient buckets of max(40M, 1M x dp) elements,
// reduced while the next one fills (two in flight), in fp32.
constexpr double kBucketElements = 40e6, kBucketElementsPerDp = 1e6, kBucketsInFlight = 2, kBucketBytes = 4;
// ZeRO-3 / FSDP gathers the next layer's parameters while the current one computes.
constexpr double kZero3GatheredLayers = 2;
// Cross-entropy on the last stage keeps the logits in fp32 (Korthikanti et al. 2022 §4.3).
constexpr double kTrainLogitBytes = 4;
// Weight streaming double-buffers: the layer computing and the next one arriving.
constexpr double kStreamedLayers = 2;

double as_double(std::int64_t v) { return static_cast<double>(v); }

// Parameters one device of stage `s` holds: its layers, the (vocab-parallel) embedding on
// the first stage, the LM head on the head stage, the last unless `head_stage: first` (a tied
// head on the last stage is a second copy of the embedding when pp > 1, as Megatron-LM keeps
// it; beside the embedding on the first it shares that copy, as Graphcore's BERT does).
double stage_params(const TrainingConfig& c, std::int64_t s) {
  const ModelSpec& m = c.model;
  const double tp = as_double(c.par.tp);
  double p = as_double(training_stage_layers(c, s)) * layer_params_per_device(c);
  const bool first = s == 0, last = s == training_head_stage(c);
  const double word_embedding = as_double(m.vocab) * as_double(m.hidden);
  if (first) p += m.embedding_params() / tp;
  // An encoder's pre-training heads (MLM transform, pooler, NSP) sit beside a tied decoder.
  if (last)
    p += (m.tied_embeddings ? (first ? 0.0 : word_embedding) + m.encoder_head_params() : m.lm_head_params()) / tp;
  return p;
}

// Micro-batches (in whole-stage units) whose activations stage `s` holds at its peak.
// Megatron-LM's warm-up counts: 1F1B runs p - s - 1 forwards before its first backward;
// the interleaved schedule 2(p - s - 1) + (v - 1)p model-chunk forwards, each 1/v of the
// stage (Narayanan et al. SC'21; Korthikanti et al. 2022 §4.2 gives p(1 + (p-1)/(pv)) for
// the first stage). GPipe runs every forward first.
double in_flight(const TrainingConfig& c, std::int64_t s) {
  const std::int64_t p = c.par.pp, m = c.micro_batches(), v = c.par.virtual_stages;
  if (c.par.schedule == "gpipe") return as_double(m);
  if (c.par.schedule == "1f1b") return as_double(std::min(m, p - s));
  const std::int64_t chunks = std::min(m * v, 2 * (p - s - 1) + (v - 1) * p + 1);
  return as_double(chunks) / as_double(v);
}

// Layer-micro-batches of activations stage `s` holds at its peak: in_flight x its layers;
// with uneven `stage_layers` the layers of the chunk forwards it has run when its first
// backward starts (the warm-up of in_flight's count), chunk by chunk.
double held_layers(const TrainingConfig& c, std::int64_t s) {
  const double flight = in_flight(c, s);
  if (c.par.stage_layers.empty()) return flight * as_double(training_stage_layers(c, s));
  const std::int64_t held = std::llround(flight * as_double(c.par.virtual_stages));
  std::int64_t layers = 0, seen = 0;
  for (const PipeItem& it : pipeline_order(c.par.schedule, c.par.pp, s, c.micro_batches(), c.par.virtual_stages)) {
    if (!it.forward) continue;
    if (seen++ == held) break;
    layers += training_chunk_layers(c, it.chunk * c.par.pp + s);
  }
  return as_double(layers);
}

}  // namespace

double layer_expert_params(const TrainingConfig& c) {
  const ModelSpec& m = c.model;
  if (!m.moe()) return 0;
  return as_double(m.experts) * m.expert_params() / as_double(c.par.ep) / as_double(c.par.tp);
}

double layer_params_per_device(const TrainingConfig& c) {
  const ModelSpec& m = c.model;
  const double experts = m.moe() ? as_double(m.experts) * m.expert_params() : 0.0;
  // Replicated KV heads: each rank holds whole K and V projections of its head, not 1/tp.
  const double kv_replicated = as_double(m.hidden) * 2 * as_double(m.head_dim) *
                               (as_double(c.kv_heads_per_rank()) - as_double(m.kv_heads) / as_double(c.par.tp));
  return (m.layer_params() - experts) / as_double(c.par.tp) + kv_replicated + layer_expert_params(c);
}

double dense_replicas(const TrainingConfig& c) { return as_double(c.par.dp) * as_double(c.par.cp); }
double expert_replicas(const TrainingConfig& c) {
  return as_double(c.par.dp) / as_double(c.par.ep) * as_double(c.par.cp);
}

Bytes layer_activation_bytes(const TrainingConfig& c) {
  // Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
  // Models", Table 2 / §4: per layer 34 sbh + 5 a s^2 b bytes with 16-bit activations, of
  // which 10 sbh (norm inputs, the QKV and MLP inputs, dropout masks) stay whole without
  // sequence parallelism and the rest shards over tp. Generalised here to grouped KV heads
  // and any MLP width (the paper's 24 sbh is Q, K, V, the attention output, and a 4h MLP's
  // two inner tensors); the 5 a s^2 b softmax term is dropped: FlashAttention keeps O(s)
  // statistics instead, so selective recompute (which drops just that term) saves nothing.
  // Context parallelism: each rank stores the activations of its 1/cp of the sequence
  // (Megatron-LM context parallelism; the ring's KV chunks are transient).
  const ModelSpec& m = c.model;
  const double sb = as_double(c.tokens_per_rank()), h = as_double(m.hidden);
  // K and V per rank: kv_heads / tp heads, or one replicated head (kv_heads_per_rank).
  const double hq = as_double(m.heads * m.head_dim), hk = as_double(c.kv_heads_per_rank() * c.par.tp * m.head_dim),
               f = as_double(m.ffn);
  const double whole = sb * (4 * h + 2 * h + 2 * h + 2 * h);  // 2 norm inputs, QKV in, MLP in, 2 masks
  const double attention = sb * (2 * hq + 4 * hk + 2 * hq);   // Q, K and V, attention output
  const double per_mlp = m.gated_mlp ? 6 * f : 4 * f;         // gate + up outputs and down input
  // MoE: every token's top-k experts each store an MLP's activations, plus the dispatched
  // input and the combined output of the all-to-all (2 x top-k x h, 16-bit); a shared
  // expert stores a dense MLP's. Balanced routing assumed.
  const double k = as_double(m.experts_per_token), shared = as_double(m.shared_ffn);
  const double mlp = m.moe() ? sb * (k * per_mlp + 6 * shared + 2 * 2 * k * h) : sb * per_mlp;
  const double tp = as_double(c.par.tp);
  if (c.par.recompute == "full") {
    // Only each layer's input is kept (sharded with sequence parallelism).
    return 2 * sb * h / (c.par.sequence_parallel ? tp : 1.0);
  }
  if (c.par.sequence_parallel) return (whole + attention + mlp) / tp;
  return whole + (attention + mlp) / tp;
}

double gradient_bucket_elements(const TrainingConfig& c) {
  return std::max(kBucketElements, kBucketElementsPerDp * as_double(c.par.dp));
}

std::vector<StageMemory> training_memory(const TrainingConfig& c) {
  std::vector<StageMemory> out;
  const int zero = c.par.zero;
  // ZeRO shards the dense parameters' states over dp x cp ranks, the experts' over dp / ep x cp.
  auto sharded = [&](double dense, double expert, int from_stage) {
    return zero >= from_stage ? dense / dense_replicas(c) + expert / expert_replicas(c) : dense + expert;
  };
  for (std::int64_t s = 0; s < c.par.pp; ++s) {
    StageMemory r;
    r.stage = s;
    r.params = stage_params(c, s);
    r.expert_params = as_double(training_stage_layers(c, s)) * layer_expert_params(c);
    const double dense = r.params - r.expert_params;
    r.weights = sharded(dense, r.expert_params, 3) * kWeightBytes;
    r.gradients = sharded(dense, r.expert_params, 2) * kGradientBytes;
    r.sharded_params = sharded(dense, r.expert_params, 1);
    r.optimizer = r.sharded_params * kOptimizerBytes;
    if (c.weight_streaming) {
      // Weight streaming: MemoryX holds the weights and optimizer states; the wafer buffers
      // the layer in use and the next one streaming in, and that layer's gradients.
      r.weights = r.gradients = kStreamedLayers * layer_params_per_device(c) * kWeightBytes;
      r.optimizer = 0;
    }
    r.in_flight = in_flight(c, s);
    r.activations = held_layers(c, s) * layer_activation_bytes(c);
    if (c.par.recompute == "full") {
      // Backward re-runs one layer's forward at a time and holds its full activations.
      TrainingConfig whole = c;
      whole.par.recompute = "none";
      r.activations += layer_activation_bytes(whole);
    }
    // Logits of every token; an encoder's of its masked-LM positions only.
    const double logit_rows =
        c.model.encoder ? as_double(c.micro_batch * c.masked_positions) : as_double(c.tokens_per_rank());
    if (s == training_head_stage(c))
      r.activations += kTrainLogitBytes * logit_rows * as_double(c.model.vocab) / as_double(c.par.tp);
    if (dense_replicas(c) > 1) {
      r.comm_buffers += kBucketsInFlight * std::min(gradient_bucket_elements(c), r.params) * kBucketBytes;
    }
    if (zero >= 3) r.comm_buffers += kZero3GatheredLayers * layer_params_per_device(c) * kWeightBytes;
    out.push_back(r);
  }
  return out;
}

std::string memory_breakdown(const StageMemory& m) {
  auto gib = [](double b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", b / (1024.0 * 1024 * 1024));
    return std::string(buf);
  };
  char inflight[32];
  std::snprintf(inflight, sizeof inflight, "%.3g", m.in_flight);
  return "weights " + gib(m.weights) + " + gradients " + gib(m.gradients) + " + optimizer " + gib(m.optimizer) +
         " + activations " + gib(m.activations) + " (" + inflight + " micro-batches in flight) + buffers " +
         gib(m.comm_buffers) + " = " + gib(m.total());
}

const MemoryTierSpec* optimizer_tier(const ChipSpec& chip) {
  return chip.placement.optimizer != chip.placement.weights ? chip.tier(chip.placement.optimizer) : nullptr;
}

Bytes main_tier_bytes(const StageMemory& m, const ChipSpec& chip) {
  // Poplar reduces the replicated gradient tensors in place (PopART's
  // ReplicatedAllReduceInplace [GC-BERT]): no Megatron-style bucket buffers on an IPU.
  const double buckets = chip.family == "ipu" ? m.comm_buffers : 0.0;
  return m.total() - (optimizer_tier(chip) ? m.optimizer : 0.0) - buckets;
}

void check_training_fits(const TrainingConfig& c, const ChipSpec& chip) {
  const auto stages = training_memory(c);
  const StageMemory& worst = *std::max_element(stages.begin(), stages.end(), [](const StageMemory& a, const StageMemory& b) {
    return a.total() < b.total();
  });
  const double capacity = chip.main_tier().capacity;
  const double usable = capacity * (1 - c.memory_reserve);
  // A chip that places the optimizer states in another tier (Graphcore's Streaming Memory
  // [GC-PG-hw]) keeps them out of the main tier; that tier must hold them.
  const MemoryTierSpec* opt_tier = optimizer_tier(chip);
  const double main_bytes = main_tier_bytes(worst, chip);
  if (opt_tier && worst.optimizer > opt_tier->capacity * (1 - c.memory_reserve)) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "optimizer states %.1f GiB per device exceed %s's %s tier (%.1f GiB x (1 - %.2g))",
                  worst.optimizer / (1024.0 * 1024 * 1024), chip.name.c_str(), opt_tier->tier.c_str(),
                  opt_tier->capacity.value() / (1024.0 * 1024 * 1024), c.memory_reserve);
    throw InfeasibleError("training does not fit: " + std::string(buf));
  }
  if (main_bytes <= usable) return;
  char cap[96];
  std::snprintf(cap, sizeof cap, "%.1f GiB x (1 - memory_reserve %.2g) = %.1f GiB", capacity / (1024.0 * 1024 * 1024),
                c.memory_reserve, usable / (1024.0 * 1024 * 1024));
  std::string where =
      opt_tier ? " (optimizer states in " + opt_tier->tier + ", the rest in " + chip.main_tier().tier + ")" : "";
  if (chip.family == "ipu" && worst.comm_buffers > 0) where += " (gradient buckets not needed: in-place all-reduce)";
  throw InfeasibleError("training does not fit: pipeline stage " + std::to_string(worst.stage) + " needs " +
                        memory_breakdown(worst) + " per device" + where + ", but " + chip.name + " has " + cap +
                        " (try zero: 1-3, more pp, tp or cp, recompute: full, or a smaller micro_batch)");
}

}  // namespace llmsim
