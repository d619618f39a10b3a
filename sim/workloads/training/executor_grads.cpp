// Gradient reduction every micro-batch (`parallelism.gradient_reduction:
// every-micro-batch`, executor.h). A ZeRO-3 rank that keeps only its 1/dp shard of the
// gradients reduce-scatters every backward's gradients as they are produced: PyTorch FSDP
// FULL_SHARD runs a reduce-scatter per unit on every backward; skipping it (`no_sync`)
// holds the unsharded gradients [PT-FSDP], which for MPT-70B (C17 / C18: 2 x 64.8e9 =
// 130 GB) exceed an 80 GB GPU. The sim issues one reduce-scatter per gradient bucket as
// the backward's pieces finish, overlapping the rest of that backward and the next passes;
// the step's tail (Adam) waits for all of them. `accumulate` (default) keeps Megatron-LM
// DDP's accumulate-then-reduce after the last backward, as the JAX / XLA runs here assume
// (how PaLM accumulated is not published).
#include <cmath>

#include "sim/workloads/training/executor.h"

namespace llmsim {

void TrainingExecutor::reduce_shard(std::int64_t step, std::int64_t s) {
  ++bucket_state_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)].pending;
  dp_collective(s, CollectiveKind::ReduceScatter, reduced_share(), [this, step, s] { bucket_reduced(step, s); });
}

double TrainingExecutor::reduced_share() const {
  const double chunk = reduce_every_micro_batch() ? 1.0 / static_cast<double>(cfg_.par.virtual_stages) : 1.0;
  return chunk / static_cast<double>(buckets_);
}

}  // namespace llmsim
