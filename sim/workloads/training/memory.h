// Per-device training memory (the question "does it fit?"): weights, gradients, optimizer
// states, activations of the micro-batches in flight under the pipeline schedule and the
// recompute policy, communication buffers, and a reserve. Pure arithmetic from published
// formulas (docs/training.md "Memory"), shared by the training workload (exit 3 when a
// stage does not fit) and `llmsim fit --training`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"

namespace llmsim {

// Gradients are reduced and parameters gathered in 16 bits (Megatron-Core DDP's default,
// grad_reduce_in_fp32 off; the distributed optimizer all-gathers bf16 parameters).
constexpr double kGradBytes = 2.0;

struct StageMemory {
  std::int64_t stage = 0;
  double params = 0;          // parameters held by one device of the stage (before ZeRO sharding)
  double expert_params = 0;   // of which routed-expert parameters (after ep sharding; 0 when dense)
  double sharded_params = 0;  // parameters whose optimizer states the device keeps (after ZeRO-1)
  double weights = 0;         // bytes, after ZeRO-3 sharding
  double gradients = 0;       // bytes, after ZeRO-2 sharding
  double optimizer = 0;       // fp32 master weights + Adam m and v, after ZeRO-1 sharding
  double activations = 0;     // stored for the backward pass, peak over the schedule
  double comm_buffers = 0;    // gradient buckets, ZeRO-3 gathered layers
  double in_flight = 0;       // micro-batches whose activations are held at the peak
  double total() const { return weights + gradients + optimizer + activations + comm_buffers; }
};

// Every stage's memory (index = stage); the largest decides whether the run fits.
std::vector<StageMemory> training_memory(const TrainingConfig& c);

// Bytes of activations one transformer layer stores for backward, per micro-batch, on one
// tp rank (Korthikanti et al. 2022, Table 2, with FlashAttention's O(s) softmax state).
Bytes layer_activation_bytes(const TrainingConfig& c);

// Routed-expert parameters of one transformer layer on one device (experts / ep, each
// sharded over tp as Megatron-Core does with expert tensor parallelism = tp); 0 when dense.
double layer_expert_params(const TrainingConfig& c);
// All of one layer's parameters on one device (dense part / tp + layer_expert_params).
double layer_params_per_device(const TrainingConfig& c);
// Devices over which the dense / the expert parameters' gradients and optimizer states are
// reduced and sharded: dp x cp, and dp / ep x cp.
double dense_replicas(const TrainingConfig& c);
double expert_replicas(const TrainingConfig& c);

// Elements in one data-parallel gradient bucket (Megatron-LM DDP: max(40M, 1M x dp)).
double gradient_bucket_elements(const TrainingConfig& c);

// The tier holding the optimizer states when the chip places them apart from the weights
// (Graphcore's Streaming Memory); nullptr when they share the weights' tier.
const MemoryTierSpec* optimizer_tier(const ChipSpec& chip);

// Bytes of `m` the chip's main (weights) tier must hold: all of it, less optimizer states a
// chip places in another tier (Graphcore's Streaming Memory), less gradient buckets on an
// IPU (Poplar reduces gradients in place). check_training_fits and `fit --training` share it.
Bytes main_tier_bytes(const StageMemory& m, const ChipSpec& chip);

// Throws InfeasibleError (exit 3) with the per-category breakdown in GiB when the worst
// stage exceeds the device's memory less the reserve.
void check_training_fits(const TrainingConfig& c, const ChipSpec& chip);

// The breakdown as text: "weights 12.3 GiB + gradients ... = total" (fit, check, errors).
std::string memory_breakdown(const StageMemory& m);

}  // namespace llmsim
