// Trace reader, mooncake format (sim/traces/trace_mooncake.cpp): see trace_fuzz.h.
#include <cmath>

#include "fuzz/trace_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return llmsim_fuzz::fuzz_trace(data, size, "mooncake");
}
