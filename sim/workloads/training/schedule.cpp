#include "sim/workloads/training/schedule.h"

#include <algorithm>

namespace llmsim {
namespace {

// Megatron-LM's k-th forward (or backward) pass of a device in the interleaved schedule:
// micro-batches go in groups of pp through chunk 0, then the same group through chunk 1, ...
PipeItem interleaved_item(std::int64_t k, bool forward, std::int64_t pp, std::int64_t chunks) {
  const std::int64_t group = pp * chunks, in_group = k % group;
  PipeItem it;
  it.forward = forward;
  it.chunk = in_group / pp;
  if (!forward) it.chunk = chunks - 1 - it.chunk;
  it.micro_batch = (k / group) * pp + in_group % pp;
  return it;
}

}  // namespace

std::vector<PipeItem> pipeline_order(const std::string& schedule, std::int64_t pp, std::int64_t stage,
                                     std::int64_t micro_batches, std::int64_t chunks) {
  std::vector<PipeItem> out;
  const std::int64_t m = micro_batches;
  if (schedule == "gpipe") {
    for (std::int64_t i = 0; i < m; ++i) out.push_back({true, i, 0});
    for (std::int64_t i = 0; i < m; ++i) out.push_back({false, i, 0});
    return out;
  }
  if (schedule == "interleaved-1f1b") {
    const std::int64_t total = m * chunks;
    std::int64_t warmup = m == pp ? total : (pp - stage - 1) * 2 + (chunks - 1) * pp;
    warmup = std::min(warmup, total);
    for (std::int64_t k = 0; k < warmup; ++k) out.push_back(interleaved_item(k, true, pp, chunks));
    for (std::int64_t k = 0; k < total - warmup; ++k) {
      out.push_back(interleaved_item(warmup + k, true, pp, chunks));
      out.push_back(interleaved_item(k, false, pp, chunks));
    }
    for (std::int64_t k = total - warmup; k < total; ++k) out.push_back(interleaved_item(k, false, pp, chunks));
    return out;
  }
  const std::int64_t warmup = std::min(pp - stage - 1, m);  // 1f1b
  for (std::int64_t i = 0; i < warmup; ++i) out.push_back({true, i, 0});
  for (std::int64_t i = 0; i < m - warmup; ++i) {
    out.push_back({true, warmup + i, 0});
    out.push_back({false, i, 0});
  }
  for (std::int64_t i = m - warmup; i < m; ++i) out.push_back({false, i, 0});
  return out;
}

}  // namespace llmsim
