#include "sim/workloads/training/kv_replicas.h"

#include "sim/workloads/training/memory.h"

namespace llmsim {

std::int64_t kv_head_replicas(const TrainingConfig& c) {
  return c.par.tp > c.model.kv_heads ? c.par.tp / c.model.kv_heads : 1;
}

std::vector<std::vector<int>> kv_replica_groups(const TrainingConfig& c, const std::vector<int>& tp_group) {
  const auto r = static_cast<std::size_t>(kv_head_replicas(c));
  std::vector<std::vector<int>> groups;
  if (r < 2) return groups;
  for (std::size_t i = 0; i + r <= tp_group.size(); i += r)
    groups.emplace_back(tp_group.begin() + i, tp_group.begin() + i + r);
  return groups;
}

Bytes kv_gradient_bytes(const TrainingConfig& c, std::int64_t layers) {
  if (kv_head_replicas(c) < 2) return 0;
  const ModelSpec& m = c.model;
  const auto d = [](std::int64_t v) { return static_cast<double>(v); };
  // K and V: [hidden, kv_heads_per_rank x head_dim] each, plus their biases.
  const double per_layer = 2 * d(c.kv_heads_per_rank()) * d(m.head_dim) * (d(m.hidden) + (m.qkv_bias ? 1 : 0));
  const double shard = c.par.zero >= 1 ? dense_replicas(c) : 1.0;
  return per_layer * d(layers) * kGradBytes / shard;
}

}  // namespace llmsim
