#include "sim/llm/fit.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace llmsim {

FitNeed fit_need(const ModelSpec& m, const std::string& dtype, std::int64_t context, std::int64_t batch) {
  FitNeed n;
  n.nominal = m.nominal_params > 0;
  n.params = m.fit_params();
  n.bytes_per_param = dtype_bytes(dtype);  // std::out_of_range on an unknown dtype
  n.weights = n.params * n.bytes_per_param * kFitRuntimeOverhead;
  // KV is stored in the weight dtype here (fit has no --kv-dtype; serving workloads do).
  n.kv_per_token = m.kv_bytes_per_token(n.bytes_per_param);
  n.kv = n.kv_per_token * static_cast<double>(context) * static_cast<double>(batch);
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
  return f;
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
