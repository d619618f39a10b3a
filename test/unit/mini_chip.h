// The smallest valid chip document, for loader tests that break or extend one line.
#pragma once
#include <string>

#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/spec/chip.h"

namespace llmsim_test {

// Lines 1-8; a `memory:` tier list follows on line 9.
inline const std::string kMiniChipHead =
    "name: mini\n"                                  // line 1
    "clock: 1 GHz\n"                                // line 2
    "power: {tdp: 100 W, idle: 10 W}\n"             // line 3
    "compute:\n"                                    // line 4
    "  units: 2\n"                                  // line 5
    "  peak: {bf16: 4 TFLOPS}\n"                    // line 6
    "  unit_rate: {bf16: 2000}\n"                   // line 7
    "memory:\n";                                    // line 8

// Loads the mini chip with `compute_line` (indented, newline-terminated) added after its
// unit_rate (so on line 8) and one HBM tier; the line of the loader's error, or -1.
inline int mini_chip_error_line(const std::string& compute_line) {
  const std::string unit_rate = "  unit_rate: {bf16: 2000}\n";
  std::string doc = kMiniChipHead;
  doc.replace(doc.find(unit_rate), unit_rate.size(), unit_rate + compute_line);
  try {
    llmsim::load_chip(llmsim::parse_doc(doc + "  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s}\n", "chip.yaml"));
  } catch (const llmsim::InputError& e) {
    return e.pos().line;
  }
  return -1;
}

}  // namespace llmsim_test
