// The shape of an op's memory stream as a tier's timing model sees it (models/tier_model.h):
// sequential (the default: streaming operands, copies, collective kernels), paged (KV moves:
// whole blocks of `block_size` tokens, each contiguous, the blocks wherever the block table
// put them; granule = one block of one layer) or random (small scattered accesses of a
// granule: gathers, embedding rows). The default pattern is the fast path: the device
// arbiter shares a tier's sequential bandwidth and never asks its model about it again.
#pragma once
#include "sim/core/units.h"

namespace llmsim {

struct AccessPattern {
  enum class Kind { Sequential, Paged, Random };
  Kind kind = Kind::Sequential;
  Bytes granule = 64;         // bytes per independent access (Paged: one block, Random: one read)
  double read_fraction = 1.0; // reads / (reads + writes)

  // The pattern every op has unless it says otherwise (what the arbiter's capacity is).
  bool is_default() const { return kind == Kind::Sequential && granule == 64 && read_fraction == 1.0; }
  const char* kind_name() const {
    return kind == Kind::Sequential ? "sequential" : kind == Kind::Paged ? "paged" : "random";
  }
};

}  // namespace llmsim
