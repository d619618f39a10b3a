// Gradients of replicated KV heads. When tp exceeds the KV heads, each KV head's K and V
// projections are held whole by tp / kv_heads consecutive ranks of a TP group
// (TrainingConfig::kv_heads_per_rank); each replica sees a different slice of the query
// heads, so its K/V weight gradient is only a partial sum, and the replicas must all-reduce
// it before the optimizer uses it (what Megatron-LM's finalize_model_grads does for every
// parameter replicated across a TP group, e.g. the sequence-parallel norms).
#pragma once
#include <cstdint>
#include <vector>

#include "sim/core/units.h"
#include "sim/workloads/training/config.h"

namespace llmsim {

// Ranks holding the same KV head: tp / kv_heads when tp > kv_heads, else 1 (no replicas).
std::int64_t kv_head_replicas(const TrainingConfig& c);

// `tp_group` (devices in TP-rank order) cut into the groups of ranks sharing one KV head:
// ranks t with the same t / replicas (vLLM's kv_head = tp_rank / replicas). Empty when
// there are no replicas.
std::vector<std::vector<int>> kv_replica_groups(const TrainingConfig& c, const std::vector<int>& tp_group);

// Bytes of 16-bit K and V projection gradients (weights, and biases when the model has
// Q/K/V biases) one rank holds over `layers` layers and must reduce over its KV replicas:
// the whole set with zero 0; with ZeRO (1-3) the optimizer updates only its 1 / (dp x cp)
// shard of them, so only that shard needs the replicas' sum after the data-parallel
// reduce-scatter.
Bytes kv_gradient_bytes(const TrainingConfig& c, std::int64_t layers);

}  // namespace llmsim
