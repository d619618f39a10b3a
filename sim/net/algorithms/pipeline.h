// Shared by the pipelined algorithms (ring broadcast/reduce, trees): how many chunks a
// message is cut into so that a chain of hops streams instead of storing and forwarding.
#pragma once
#include <algorithm>
#include <cmath>

#include "sim/core/units.h"

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

}  // namespace llmsim
