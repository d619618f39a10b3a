// Shared by every fuzz target. The contract allows a loader exactly three outcomes for any
// input: success, InputError (exit 2) or InfeasibleError (exit 3). Anything else reaching
// the CLI becomes "internal error" (exit 1) or a crash, so here it aborts and libFuzzer
// keeps the input as a finding.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "sim/core/error.h"

namespace llmsim_fuzz {

inline std::string to_text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// The source tree, so documents parsed under names inside it resolve `include:`, `nodes:`
// and chip references against the shipped files.
inline std::string root() {
  const char* h = std::getenv("LLMSIM_HOME");
  return h ? h : LLMSIM_SOURCE_DIR;
}

template <class F>
void expect_contract(F&& body) {
  try {
    body();
  } catch (const llmsim::InputError&) {
  } catch (const llmsim::InfeasibleError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: exception outside the contract: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz: non-std exception outside the contract\n");
    std::abort();
  }
}

}  // namespace llmsim_fuzz
