// The smallest valid chip document, for loader tests that break or extend one line.
#pragma once
#include <string>

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

}  // namespace llmsim_test
