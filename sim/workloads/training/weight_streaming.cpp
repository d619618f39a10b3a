#include "sim/workloads/training/weight_streaming.h"

#include <algorithm>
#include <cstdio>

#include "sim/core/error.h"
#include "sim/workloads/training/memory.h"

namespace llmsim {
namespace {

// 16-bit weights in, 16-bit gradients out (mixed precision; MemoryX keeps the fp32 master
// copy and Adam states [CB-gloss-MemoryX]).
constexpr double kStreamBytesPerParam = 2;

}  // namespace

BytesPerSecond weight_streaming_bandwidth(const ChipSpec& chip) {
  BytesPerSecond bw = 0;
  for (const PortSpec& p : chip.ports)
    if (p.kind == "ethernet") bw += p.bandwidth * p.count;
  if (bw <= 0) {
    throw InfeasibleError("weight_streaming needs the chip's system I/O (Ethernet ports to MemoryX); " + chip.name +
                          " lists none");
  }
  return bw;
}

void apply_weight_streaming(const TrainingConfig& cfg, const ChipSpec& chip, Seconds layer_forward,
                            Seconds layer_backward, ChunkCost& c) {
  const BytesPerSecond bw = weight_streaming_bandwidth(chip);
  const double layers = static_cast<double>(c.layers);
  const Seconds per_layer = layer_params_per_device(cfg) * kStreamBytesPerParam / bw;  // one layer's weights
  const Seconds edge_forward = c.forward.compute - layer_forward, edge_backward = c.backward.compute - layer_backward;
  // Embedding and head weights (the one stage holds both: weight streaming runs pp 1).
  const ModelSpec& m = cfg.model;
  const double edge_params = m.embedding_params() + m.lm_head_params();
  const Seconds edge_stream = edge_params * kStreamBytesPerParam / bw;
  // Backward: weights in and gradients out run in opposite directions at the same size.
  c.forward.compute = layers * std::max(layer_forward / layers, per_layer) + std::max(edge_forward, edge_stream);
  c.backward.compute = layers * std::max(layer_backward / layers, per_layer) + std::max(edge_backward, edge_stream);
}

}  // namespace llmsim
