// Bulk-synchronous execution on tile chips (Graphcore IPU; docs/models.md "BSP exchange").
// An IPU tile computes only on operands in its own SRAM; Poplar runs every operator as
// supersteps of a chip-wide sync, an exchange phase that brings each tile the operand
// slices its part needs, and the compute phase [GC-PG-hw]. The phases do not overlap.
#pragma once

#include "sim/ops/op.h"

namespace llmsim {

// A chip's `compute.exchange:` block (declared in sim/spec/chip_params.cpp, checked by
// load_chip, read back from ChipSpec::resolved as execution_of does). 0 = no exchange
// phase: a kernel chip's units read a shared memory.
struct BspSpec {
  double bytes_per_cycle = 0;  // bytes one unit receives per clock in an exchange phase
  double sync_cycles = 0;      // one chip-wide sync
  bool on() const { return bytes_per_cycle > 0; }
};

BspSpec bsp_of(const ChipSpec& chip);

// Syncs plus exchange phases of `op` on a BSP chip, 0 on any other chip (and for copies,
// which the gateway's DMA moves). estimate_op adds it to the op's compute time: the tiles
// are busy exchanging.
Seconds bsp_exchange_time(const Op& op, const ChipSpec& chip);

}  // namespace llmsim
