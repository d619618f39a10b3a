// Parts of the chip loader (load_chip, sim/spec/chip.cpp) kept in files of their own. Each
// reads one section of a chip file into the ChipSpec, with positioned errors (exit 2).
#pragma once
#include "sim/core/params.h"
#include "sim/spec/chip.h"

namespace llmsim {

// chip.compute: peaks per dtype, per-unit rates (checked against units x clock), the vector
// and special-function units, the tile the GEMM model steps, and the efficiencies.
void load_chip_compute(Params& chip_fields, ChipSpec& c);

}  // namespace llmsim
