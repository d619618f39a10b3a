// Spatial dataflow execution of a serving iteration (chips with `execution: {model:
// spatial}`: WSE, Groq, SN40L, Tensix) and weight residency across memory tiers (issue 12
// items 5 and 6). A kernel chip never reaches this file; docs/models.md "Spatial dataflow".
//
// On a spatial chip a layer's weights sit in the SRAM of the cores that use them, so a
// token's latency is not bytes over the whole chip's bandwidth but, per layer:
//   the layer's operators on the region of the mesh that holds the layer (all of it when
//   the chip runs its layers in turn, units / layers of it when layers are pipelined)
//   + for each dependent operator, one traversal of that region: its input broadcast along
//     one mesh axis and its partial sums reduced along the other, (w + h) hops.
// A stage pays that once per layer (pipeline depth). With layer pipelining, tokens of a
// batch stream through the regions: the iteration lasts one region's work on the whole
// batch plus the fill of the other layers by the first token.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/ops/op.h"
#include "sim/workloads/inference/config.h"

namespace llmsim {

// How the chip runs a model: its `execution:` block (sim/spec/chip_params.cpp declares the
// fields; load_chip checks them and records them in ChipSpec::resolved, read back here).
// kernel: one operator after another on the whole chip, each timed by estimate_op (GPU,
// TPU, Gaudi). spatial: a layer's operators laid out on a 2-D mesh of cores that hold
// their weights (WSE, Groq, SN40L, Tensix).
struct ExecutionSpec {
  std::string model = "kernel";  // kernel | spatial
  // spatial: "layer" = each layer of the chip's pipeline stage owns units / layers of the
  // mesh and tokens stream through them (Cerebras layer pipelining); "chip" = the chip runs
  // its layers in turn on the whole mesh (Groq static schedule, SN40L, Tensix).
  std::string regions = "chip";
  int mesh_x = 1, mesh_y = 1;  // core mesh (columns x rows)
  double hop_cycles = 1;       // latency of one mesh hop, in core clock cycles
  bool spatial() const { return model == "spatial"; }
};

ExecutionSpec execution_of(const ChipSpec& chip);

// Mesh traversals an operator waits for: a GEMM broadcasts its input and reduces its
// partial sums (1), attention does so for scores and again for values (2), a norm or the
// sampling reduces a row and broadcasts the result (1); elementwise ops stay local (0).
int mesh_traversals(const Op& op);

// The part of a spatial chip one layer runs on.
struct SpatialRegion {
  double fraction = 1;    // of the chip's units, SRAM bandwidth and peaks
  double width = 1;       // mesh columns (hops of a row reduction)
  double height = 1;      // mesh rows (hops of a column broadcast)
  Seconds traversal = 0;  // one broadcast + reduction across the region
};

// `layers_on_chip`: the layers of the pipeline stage the chip holds.
SpatialRegion spatial_region(const ChipSpec& chip, std::int64_t layers_on_chip);

// The chip scaled to `fraction` of its units (peaks, vector rate and on-chip SRAM
// bandwidth with them; off-chip tiers are shared and keep their bandwidth).
ChipSpec region_chip(const ChipSpec& chip, double fraction);

// Where a device's weight shard lives when the chip keeps weights in a big slow tier and
// stages them through a faster one (placement.staging, SN40L DDR -> HBM): the staging tier
// keeps what fits resident, the rest streams from the weights tier at every use.
struct WeightResidency {
  Bytes weights = 0;         // the device's weight shard of the stage
  Bytes activations = 0;     // activation buffers (max_batched_tokens wide, logits)
  Bytes staging_buffer = 0;  // double buffer of one layer's shard in the staging tier
  // Weight-gathered layout (tp > 1): one layer's whole weights and, on the last stage, the
  // LM head's (what each all-gather brings), and the buffer that holds two layers (the one
  // running and the next arriving) or the head, if larger, in the weights tier.
  Bytes gathered_layer = 0, gathered_head = 0, gathered_buffer = 0;
  Bytes kv_reserve = 0;      // KV of one full iteration (max_batched_tokens) kept free
  Bytes resident = 0;        // weights kept in the staging tier
  Bytes spilled = 0;         // weights read from the weights tier at every use
  // Of `spilled`, routed experts' weights: the staging tier keeps the weights every token
  // reads (attention, shared experts, dense layers) and leaves experts behind first, and an
  // iteration reads only the spilled experts its tokens reach.
  Bytes spilled_experts = 0;
};

WeightResidency weight_residency(const InferenceConfig& cfg, const ChipSpec& chip, std::int64_t stage);

// Time to stream `bytes` from the chip's weights tier at its sustained bandwidth.
Seconds spill_time(const ChipSpec& chip, Bytes bytes);

struct IterationShape;
struct StageCost;
class Lowering;

// A spatial chip's pipeline stage: the region one of its layers runs on, and the chip
// scaled to that region (built once per stage by the Lowering).
struct SpatialStage {
  SpatialRegion region;
  ChipSpec chip;
};

SpatialStage spatial_stage(const InferenceConfig& cfg, const ChipSpec& chip, std::int64_t stage);

// Compute part of a spatial chip's stage cost (compute, layer_compute, flops, bytes,
// energy, layers); the Lowering adds the collectives and sends as on any chip.
StageCost spatial_stage_compute(const Lowering& lowering, const SpatialStage& st, const IterationShape& s,
                                std::int64_t stage, std::int64_t layers, std::int64_t pp);

}  // namespace llmsim
