// Weight streaming (Cerebras CS-2 / CS-3 with MemoryX and SwarmX [CB-gloss-MemoryX],
// [CB-gloss-SwarmX], [CB-gloss-WSC]): the wafer holds activations only; every layer's
// 16-bit weights stream in from MemoryX for each forward and each backward of a
// micro-batch, its gradients stream back out, and MemoryX runs the optimizer. The stream
// overlaps the layer's compute, so a layer takes max(compute, bytes / system I/O) per pass
// (docs/training.md "Weight streaming").
#pragma once
#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/lowering.h"

namespace llmsim {

// The chip's system I/O per direction: the sum of its Ethernet ports (CS-3: 12 x 100 GbE =
// 150 GB/s [ANL-SC24-CB]). InfeasibleError (exit 3) when the chip has none.
BytesPerSecond weight_streaming_bandwidth(const ChipSpec& chip);

// Stretches a chunk's passes to the stream: each of its layers takes max(compute, weight
// bytes in / bandwidth) forward and max(compute, max(weights in, gradients out) /
// bandwidth) backward (full duplex), the embedding and head likewise. `layer_forward` /
// `layer_backward`: the compute of all the chunk's layers (edges excluded).
void apply_weight_streaming(const TrainingConfig& cfg, const ChipSpec& chip, Seconds layer_forward,
                            Seconds layer_backward, ChunkCost& c);

}  // namespace llmsim
