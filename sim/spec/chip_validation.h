// A chip's validation summary (`validation:` in its file, docs/catalog.md): read with the
// chip, and put into words wherever a result is shown beside it (summary.json, llmsim
// devices, a plan's per-system table), so a comparison between chips carries how far
// each chip's model lands from what was measured on it.
#pragma once
#include <string>

#include "sim/core/params.h"
#include "sim/spec/chip.h"

namespace llmsim {

// Reads `validation` of a chip file into c.validation (exit 2 at a bad field).
void load_chip_validation(Params& f, ChipSpec& c);

// One line for reports: "13 held-out rows: mean speed error +30 % (simulated faster),
// median abs error 10 %", or why there is no such figure.
std::string validation_note(const ChipSpec& c);

}  // namespace llmsim
