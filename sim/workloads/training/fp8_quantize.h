// fp8 training's quantisation kernels (Transformer Engine, [TE-FP8]): the layer's
// activations and gradients stay 16-bit between GEMMs (kTrainActivationBytes), so every
// fp8 GEMM's 16-bit inputs are cast to fp8 (with their amax for the delayed scaling) by a
// memory-bound kernel before it runs, and the copy a later GEMM reads transposed is
// written beside it (Hopper's fp8 tensor cores take only the TN layout). docs/training.md
// "fp8 training".
#pragma once
#include <vector>

#include "sim/ops/op.h"
#include "sim/workloads/training/config.h"

namespace llmsim {

// Bytes per element of one cast-transpose: the 16-bit input read once, the fp8 copy and
// its fp8 transpose written (TE's fused cast_transpose kernel).
constexpr double kFp8CastTransposeBytes = 2.0 + 1.0 + 1.0;
// Vector work per element: the |x| max for the amax and the scale-and-convert.
constexpr double kFp8CastFlops = 2.0;

// The cast kernels of one transformer layer on one device, given the layer's forward ops
// (TrainingLowering::layer_forward_ops): `forward` casts each fp8 GEMM's activation input
// X[m, k] (the transposed copy feeds its weight-gradient GEMM), `backward` casts each fp8
// GEMM's incoming gradient dY[m, n] (the transposed copy feeds the weight gradient, the
// other the data gradient). With sequence parallelism a column-parallel GEMM's input and a
// row-parallel GEMM's gradient are cast on the 1/tp rows each rank holds, before the
// all-gather (which then moves fp8). Weights are cast once per step, on the first
// micro-batch, and the tiny amax reduction is not charged (both well under 1 % of a step).
struct Fp8CastOps {
  std::vector<Op> forward, backward;
};
Fp8CastOps fp8_cast_ops(const TrainingConfig& cfg, const std::vector<Op>& layer_forward);

}  // namespace llmsim
