// Shared by the pipelined algorithms (ring broadcast/reduce, trees): how many chunks a
// message is cut into so that a chain of hops streams instead of storing and forwarding.
#pragma once
#include <algorithm>
#include <cmath>

#include "sim/core/units.h"
#include "sim/net/collective.h"

namespace llmsim {

// NCCL streams through its FIFO in slices of NCCL_BUFFSIZE / NCCL_STEPS = 4 MiB / 8 =
// 512 KiB (NCCL defaults, src/include/device.h), so that is the pipeline chunk.
constexpr Bytes kPipelineChunkBytes = 512 * 1024;
// Upper bound on chunks per message: beyond this the pipeline fill is < 0.1 % anyway and
// more steps only cost simulation time.
constexpr int kMaxPipelineChunks = 1024;

inline int pipeline_chunks(Bytes bytes) {
  double m = std::ceil(bytes / kPipelineChunkBytes);
  return static_cast<int>(std::clamp(m, 1.0, static_cast<double>(kMaxPipelineChunks)));
}

// A streamed pipeline over the edges of `p`: every edge carries `bytes` concurrently
// (one phase), then `extra_hops` fill steps of one chunk, on the first edge alone, for the
// chunks still in flight behind the head: a + S/B + extra_hops x (a + chunk/B).
inline void add_pipeline(Plan& plan, const PatternPtr& p, Bytes bytes, int extra_hops, const std::string& label) {
  plan.stages.push_back({p, bytes, 1, label});
  if (extra_hops <= 0 || p->pairs.empty()) return;
  auto fill = make_pattern();
  add_pair(*fill, p->pairs.front().first, p->pairs.front().second);
  plan.stages.push_back({fill, bytes / pipeline_chunks(bytes), extra_hops, label});
}

}  // namespace llmsim
