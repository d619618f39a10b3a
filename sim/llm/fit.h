// `llmsim fit` arithmetic: how many chips of a kind hold a model's weights plus KV cache.
// Pure functions so tests check the numbers without the CLI.
#pragma once
#include <cstdint>
#include <string>

#include "sim/llm/model.h"
#include "sim/spec/chip.h"

namespace llmsim {

// The review's runtime overhead on weights (framework buffers, activations, fragmentation):
// "parameters x bytes x 1.2" (CONTRACT.md `fit`: 405e9 x 2 B x 1.2 = 972 GB).
constexpr double kFitRuntimeOverhead = 1.2;

struct FitNeed {
  double params = 0;            // sized parameter count (nominal when given)
  bool nominal = false;         // params came from the catalog's `parameters:`
  double bytes_per_param = 0;
  double weights = 0;           // params x bytes x overhead
  double kv_per_token = 0;      // 2 x layers x kv_heads x head_dim x bytes (MLA: layers x latent x bytes)
  double kv = 0;                // per sequence (local layers capped at the window) x batch
  // KV heads the cache splits over when chips shard it by heads (MLA's latent: 1). Past
  // that many chips each one holds a replica of a head (vLLM), so KV per chip stops falling.
  std::int64_t kv_shards = 1;
  double total() const { return weights + kv; }
};

struct FitChip {
  std::string weights_tier, kv_tier;
  double capacity = 0;          // bytes of the tier(s) that hold weights (+ KV when shared)
  double kv_capacity = 0;       // bytes of the KV tier when it differs, else 0
  std::int64_t chips = 0;       // strictly by capacity: ceil (0: no count holds it)
  bool kv_replicated = false;   // chips > kv_shards: KV heads replicated, counted per chip
  std::int64_t review_chips = 0;  // the review's rounding: nearest, at least 1
  double ratio = 0;             // total / capacity (the bound that decides `chips`)
};

FitNeed fit_need(const ModelSpec& m, const std::string& dtype, std::int64_t context, std::int64_t batch);
FitChip fit_chip(const FitNeed& need, const ChipSpec& chip);

// The KV line of `llmsim fit`: "2 x 32 layers x 8 kv_heads x 128 head_dim x 2 B x ...",
// MLA's latent, or global and local (windowed) layers apart.
std::string fit_kv_formula(const ModelSpec& m, const FitNeed& need, std::int64_t context, std::int64_t batch);

// "972 GB", "1,944 GB", "19.2 GB", "512 MB": decimal units, thousands separators.
std::string format_bytes_human(double bytes);
// "405,000,000,000"
std::string format_thousands(double v);

}  // namespace llmsim
