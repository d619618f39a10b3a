// What failures cost a training job (docs/faults.md): `checkpoint:` (interval, write
// bandwidth, restart time) prices one failure in a simulated run (the work since the last
// checkpoint plus the restart), and `goodput:` composes failures over days on top of the
// simulated step time (goodput.h).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>

#include "sim/core/yaml_doc.h"
#include "sim/topo/topology.h"
#include "sim/workloads/training/config.h"

namespace llmsim {

struct CheckpointConfig {
  bool given = false;
  Seconds interval_s = 0;
  BytesPerSecond write_bandwidth = 0;
  Seconds restart_s = 0;
};

struct GoodputConfig {
  bool given = false;
  double days = 0;
  std::int64_t trials = 0;
  double gpu_per_s = 0, link_per_s = 0, host_per_s = 0, switch_per_s = 0;  // per component
  bool search_interval = false;
};

// Reads `checkpoint:` and `goodput:` of a training document (goodput needs checkpoint),
// normalising them in c.resolved. parse_training only checks they are maps.
void parse_resilience(const Doc& doc, const TrainingConfig& c, CheckpointConfig& ck, GoodputConfig& gp);

// Bytes a checkpoint writes: every parameter's bf16 weight and fp32 Adam states, whole
// model (the same per-parameter bytes as the memory model; ZeRO shards are summed back).
Bytes checkpoint_bytes(const TrainingConfig& c);

// Seconds one checkpoint write takes: checkpoint_bytes / the aggregate write bandwidth
// (every device writes its shard at once; the shards add up to the whole state).
Seconds checkpoint_write_s(const TrainingConfig& c, const CheckpointConfig& ck);

// A device failure at `fail_s` in a run whose steps ended at `step_ends_s` and whose
// checkpoint writes finished at `saved_s`: the summary's `training.failure` block (lost
// work since the last checkpoint, restart cost).
nlohmann::ordered_json failure_json(const CheckpointConfig& ck, int device, Seconds fail_s,
                                    const std::vector<double>& step_ends_s, const std::vector<double>& saved_s);

// The summary's `training.goodput` block, for a step of `step_s` on `topo`.
nlohmann::ordered_json goodput_json(const TrainingConfig& c, const CheckpointConfig& ck, const GoodputConfig& g,
                                    const Topology& topo, Seconds step_s);

}  // namespace llmsim
