// The training executor's data side (docs/training.md "Data"): each step draws its global
// batch from the packed sequence stream, and each micro-batch's passes cost what its
// documents cost under document-masked attention.
#include <algorithm>

#include "sim/workloads/training/executor.h"

namespace llmsim {
namespace {

void add(PassCost& to, const PassCost& a, const PassCost& b, double times) {
  to.compute += (a.compute - b.compute) * times;
  to.flops += (a.flops - b.flops) * times;
  to.bytes += (a.bytes - b.bytes) * times;
  to.energy += (a.energy - b.energy) * times;
}

}  // namespace

// Replica d takes sequences [d x m x mb, (d + 1) x m x mb) of the step, micro-batch j the
// mb after j x mb of those (Megatron-LM's data-parallel sampler order). With folding only
// replica 0 is simulated; it runs the micro-batches of the replica with the most attention
// work, the straggler every replica's gradient reduction waits for.
void TrainingExecutor::draw_step_data(std::int64_t step) {
  if (!stream_) return;
  const std::int64_t m = cfg_.micro_batches(), mb = cfg_.micro_batch, dp = cfg_.par.dp;
  const bool price = cfg_.data.masks_documents();
  std::vector<AttentionCost> all;
  std::vector<double> work(static_cast<std::size_t>(dp), 0);
  for (std::int64_t d = 0; d < dp; ++d) {
    for (std::int64_t j = 0; j < m; ++j) {
      std::vector<std::int64_t> docs;
      for (std::int64_t q = 0; q < mb; ++q) {
        const PackedSequence seq = stream_->next();
        docs.insert(docs.end(), seq.pieces.begin(), seq.pieces.end());
      }
      if (!price) continue;
      AttentionCost a = lowering_.attention_cost(docs);
      work[static_cast<std::size_t>(d)] += a.forward.compute + a.backward.compute;
      all.push_back(a);
    }
  }
  if (!price) return;
  auto& out = attention_delta_[static_cast<std::size_t>(step)];
  std::int64_t first = 0, count = dp;
  if (cfg_.fold_data_parallel) {
    first = std::max_element(work.begin(), work.end()) - work.begin();
    count = 1;
  }
  for (std::int64_t d = first; d < first + count; ++d) {
    for (std::int64_t j = 0; j < m; ++j) {
      const AttentionCost& a = all[static_cast<std::size_t>(d * m + j)];
      AttentionCost delta;
      add(delta.forward, a.forward, full_attention_.forward, 1);
      add(delta.backward, a.backward, full_attention_.backward, 1);
      out.push_back(delta);
    }
  }
}

std::shared_ptr<const PassCost> TrainingExecutor::pass_cost(std::int64_t step, std::int64_t r, std::int64_t vs,
                                                            const PipeItem& it) const {
  const ChunkCost& c = chunks_[static_cast<std::size_t>(vs)];
  auto pc = std::make_shared<PassCost>(it.forward ? c.forward : c.backward);
  const auto& deltas = attention_delta_[static_cast<std::size_t>(step)];
  if (deltas.empty()) return pc;
  const std::size_t slot = static_cast<std::size_t>((cfg_.fold_data_parallel ? 0 : r) * cfg_.micro_batches() + it.micro_batch);
  const AttentionCost& d = deltas[slot];
  PassCost zero;
  add(*pc, it.forward ? d.forward : d.backward, zero, static_cast<double>(c.layers));
  pc->compute = std::max(Seconds{0}, pc->compute);
  return pc;
}

}  // namespace llmsim
