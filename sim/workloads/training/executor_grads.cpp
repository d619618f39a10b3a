// Gradient buckets (executor.h). Each model chunk's gradients are final after its last
// backward of the step: that pass runs in buckets (Megatron-LM DDP's max(40M, 1M x dp)
// elements, capped here for speed), and each bucket's data-parallel reduction starts as
// soon as every simulated replica has produced it. With interleaving every chunk reduces
// its own gradients after its own last backward, as Megatron-LM's interleaved schedule
// syncs each model chunk's gradients [MEGATRON-PP-SCHED]; the stage's tail (Adam) waits for
// all of them.
//
// Gradient reduction every micro-batch (`parallelism.gradient_reduction:
// every-micro-batch`). A ZeRO-3 rank that keeps only its 1/dp shard of the gradients
// reduce-scatters every backward's gradients as they are produced: PyTorch FSDP
// FULL_SHARD runs a reduce-scatter per unit on every backward; skipping it (`no_sync`)
// holds the unsharded gradients [PT-FSDP], which for MPT-70B (C17 / C18: 2 x 64.8e9 =
// 130 GB) exceed an 80 GB GPU. The sim issues one reduce-scatter per gradient bucket as
// the backward's pieces finish, overlapping the rest of that backward and the next passes.
// `accumulate` (default) keeps Megatron-LM DDP's accumulate-then-reduce after the last
// backward, as the JAX / XLA runs here assume (how PaLM accumulated is not published).
#include <algorithm>
#include <cmath>

#include "sim/workloads/training/executor.h"
#include "sim/workloads/training/memory.h"

namespace llmsim {
namespace {

// At most this many gradient buckets per stage are simulated (Megatron-LM's 40M-element
// buckets would make ~25 per stage of the 405B run, each a network collective on every
// DP group), but one per model chunk at least: a simulation-speed cap, not a model
// parameter. Coarser buckets overlap a little less of the reduction with the last backward.
constexpr std::int64_t kMaxSimulatedBuckets = 4;

}  // namespace

void TrainingExecutor::set_buckets() {
  const std::int64_t v = cfg_.par.virtual_stages;
  double most = 0;  // parameters of the largest model chunk
  for (std::int64_t s = 0; s < cfg_.par.pp; ++s) {
    for (std::int64_t c = 0; c < v; ++c) most = std::max(most, stage_params_[static_cast<std::size_t>(s)] * chunk_share(s, c));
  }
  const auto needed = static_cast<std::int64_t>(std::ceil(most / gradient_bucket_elements(cfg_)));
  const std::int64_t cap = std::max<std::int64_t>(1, kMaxSimulatedBuckets / v);
  buckets_ = std::max<std::int64_t>(1, std::min(cap, needed));
}

// Queues all pieces at once (the streams run them back to back); piece i finishing on
// every device calls ready(i) (its gradient bucket is complete).
void TrainingExecutor::run_pieces(const std::vector<int>& devs, const OpCost& piece, const std::string& label,
                                  std::function<void(std::int64_t)> ready, std::function<void()> then) {
  for (std::int64_t i = 0; i < buckets_; ++i) {
    submit_all(devs, piece, label, [this, i, ready, then] {
      ready(i);
      if (i + 1 == buckets_) then();
    });
  }
}

void TrainingExecutor::bucket_ready(std::int64_t step, std::int64_t s, std::int64_t chunk, std::int64_t i) {
  BucketState& b = bucket_state_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)];
  if (--b.join[static_cast<std::size_t>(chunk * buckets_ + i)] > 0) return;
  const CollectiveKind kind = cfg_.par.zero == 0 ? CollectiveKind::AllReduce : CollectiveKind::ReduceScatter;
  dp_collective(s, kind, reduced_share(s, chunk), [this, step, s] { bucket_reduced(step, s); });
}

void TrainingExecutor::bucket_reduced(std::int64_t step, std::int64_t s) {
  BucketState& st = bucket_state_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)];
  if (--st.pending > 0 || !st.waiter) return;
  auto w = std::move(st.waiter);
  w();
}

void TrainingExecutor::reduce_shard(std::int64_t step, std::int64_t s, std::int64_t chunk) {
  ++bucket_state_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)].pending;
  dp_collective(s, CollectiveKind::ReduceScatter, reduced_share(s, chunk), [this, step, s] { bucket_reduced(step, s); });
}

double TrainingExecutor::reduced_share(std::int64_t s, std::int64_t chunk) const {
  return chunk_share(s, chunk) / static_cast<double>(buckets_);
}

// Uneven `stage_layers` give a stage's chunks unequal shares; with none, 1 / v each.
double TrainingExecutor::chunk_share(std::int64_t s, std::int64_t chunk) const {
  const std::int64_t stage = training_stage_layers(cfg_, s);
  if (stage == 0) return 1.0 / static_cast<double>(cfg_.par.virtual_stages);
  return static_cast<double>(training_chunk_layers(cfg_, chunk * cfg_.par.pp + s)) / static_cast<double>(stage);
}

}  // namespace llmsim
