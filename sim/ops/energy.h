// Dynamic-energy coefficients of a chip: pJ per FLOP by dtype and pJ per byte by memory
// tier. Explicit catalog values (power.pj_per_flop, memory[].pj_per_byte) win; missing ones
// are derived so that full matrix load plus full streaming of the main tier sits exactly
// at TDP (docs/models.md "Energy").
#pragma once
#include <string>

#include "sim/spec/chip.h"

namespace llmsim {

// Reference energy per byte moved, by tier kind, before the TDP balance (CHIPS.md Part C).
double reference_pj_per_byte(const std::string& tier_kind);

// pJ per byte moved to/from `tier` of `chip`: the tier's own energy (explicit or derived)
// plus, for an off-chip tier with an explicit energy, power.pj_per_byte_fabric.
double tier_pj_per_byte(const ChipSpec& chip, const MemoryTierSpec& tier);

// pJ per FLOP at `dtype` (must be in chip.compute.peak): power.pj_per_flop_dtype when it
// lists the dtype, else scaled by peak ratio (that dtype at its full rate draws the same
// matrix power as 16-bit at its own).
double chip_pj_per_flop(const ChipSpec& chip, const std::string& dtype);

// The tier operands stream from by default: placement.stream_from, else the weights tier.
const MemoryTierSpec& stream_tier(const ChipSpec& chip);

// The chip's 16-bit matrix peak (bf16, else fp16, else its largest listed peak).
FlopsPerSecond peak16(const ChipSpec& chip);

}  // namespace llmsim
