#include "sim/llm/fit.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace llmsim {

FitNeed fit_need(const ModelSpec& m, const std::string& dtype, std::int64_t context, std::int64_t batch) {
  FitNeed n;
  n.nominal = m.nominal_params > 0;
  n.params = m.fit_params();
  n.bytes_per_param = dtype_bytes(dtype);  // std::out_of_range on an unknown dtype
  n.weights = n.params * n.bytes_per_param * kFitRuntimeOverhead;
  // KV is stored in the weight dtype here (fit has no --kv-dtype; serving workloads do).
  n.kv_per_token = m.kv_bytes_per_token(n.bytes_per_param);
  n.kv = m.kv_bytes_per_sequence(context, n.bytes_per_param) * static_cast<double>(batch);
  n.kv_shards = m.mla() ? 1 : m.kv_heads;
  return n;
}

FitChip fit_chip(const FitNeed& need, const ChipSpec& chip) {
  FitChip f;
  f.weights_tier = chip.placement.weights;
  f.kv_tier = chip.placement.kv_cache;
  const MemoryTierSpec* w = chip.tier(f.weights_tier);
  if (!w || w->capacity <= 0) throw std::invalid_argument(chip.name + ": no capacity in tier '" + f.weights_tier + "'");
  f.capacity = w->capacity;
  double ratio = need.total() / f.capacity;
  if (f.kv_tier != f.weights_tier) {
    // Weights and KV in different tiers (e.g. SN40L: weights in DDR, KV in HBM): each tier
    // must hold its share; the tighter one decides.
    const MemoryTierSpec* k = chip.tier(f.kv_tier);
    if (!k || k->capacity <= 0) throw std::invalid_argument(chip.name + ": no capacity in tier '" + f.kv_tier + "'");
    f.kv_capacity = k->capacity;
    ratio = std::max(need.weights / f.capacity, need.kv / f.kv_capacity);
  }
  f.ratio = ratio;
  // A hair of tolerance so an exact multiple does not round up on float noise.
  f.chips = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(ratio - 1e-9)));
  f.review_chips = std::max<std::int64_t>(1, std::llround(ratio));
  if (f.chips <= need.kv_shards || need.kv <= 0) return f;
  // More chips than KV heads: each holds ceil(heads / chips) = 1 head, a replica, so its
  // KV share is kv / kv_shards however many chips there are. Fits when the weights share
  // leaves room: n >= weights / (capacity - kv / kv_shards).
  f.kv_replicated = true;
  const double kv_chip = need.kv / static_cast<double>(need.kv_shards);
  const bool split = f.kv_capacity > 0;
  const double room = split ? f.capacity : f.capacity - kv_chip;
  if (room <= 0 || (split && kv_chip > f.kv_capacity)) {
    f.chips = 0;
    return f;
  }
  f.chips = std::max<std::int64_t>(need.kv_shards + 1, static_cast<std::int64_t>(std::ceil(need.weights / room - 1e-9)));
  return f;
}

std::string fit_kv_formula(const ModelSpec& m, const FitNeed& need, std::int64_t context, std::int64_t batch) {
  char bytes[32];
  std::snprintf(bytes, sizeof bytes, "%g", need.bytes_per_param);
  const std::string b = std::string(bytes) + " B x ";
  const std::string tail = std::to_string(batch) + " batch = " + format_bytes_human(need.kv);
  const std::string ctx = std::to_string(context) + " context x ";
  const std::string heads = std::to_string(m.kv_heads) + " kv_heads x " + std::to_string(m.head_dim) + " head_dim x ";
  if (m.mla()) {
    return std::to_string(m.layers) + " layers x (" + std::to_string(m.kv_lora_rank) + " kv_lora_rank + " +
           std::to_string(m.qk_rope_head_dim) + " qk_rope_head_dim) MLA latent x " + b + ctx + tail;
  }
  if (m.sliding_window > 0) {
    return "2 x " + heads + b + "(" + std::to_string(m.layers - m.local_layers) + " global layers x " +
           std::to_string(context) + " + " + std::to_string(m.local_layers) + " local layers x min(" +
           std::to_string(context) + ", " + std::to_string(m.sliding_window) + " window)) x " + tail;
  }
  return "2 x " + std::to_string(m.layers) + " layers x " + heads + b + ctx + tail;
}

std::string format_thousands(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", std::round(v));
  std::string s = buf, out;
  int start = s[0] == '-' ? 1 : 0;
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    size_t left = s.size() - i - 1;
    if (static_cast<int>(i) >= start && left > 0 && left % 3 == 0) out += ',';
  }
  return out;
}

std::string format_bytes_human(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  double v = bytes;
  // Stay in GB up to 100 TB so the review's figures read as it prints them ("1,944 GB").
  while (u < 3 && v >= 1000.0) {
    v /= 1000.0;
    ++u;
  }
  if (u == 3 && v >= 100000.0) {
    v /= 1000.0;
    ++u;
  }
  char buf[64];
  if (v >= 100.0 || v == std::floor(v)) return format_thousands(v) + " " + units[u];
  std::snprintf(buf, sizeof buf, v >= 10.0 ? "%.1f %s" : "%.2f %s", v, units[u]);
  return buf;
}

}  // namespace llmsim
