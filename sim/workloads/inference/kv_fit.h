// Whether a replica's KV cache can hold any request at all (issue 16): a cache smaller than
// the smallest request would reject every request, which is an infeasible configuration
// (exit 3 with the arithmetic), not a run that "completed" with everything rejected.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/traces/request.h"

namespace llmsim {

// The device whose free KV memory decided a replica's KV blocks.
struct KvFit {
  std::string device;
  double budget = 0;  // bytes free for the KV cache on it (all engines)
  double kv_tok = 0;  // KV bytes per token on it
};

// Throws InfeasibleError when the smallest request (prompt + output tokens) needs more
// than `blocks` (one engine's KV blocks of `block_size` tokens).
void check_kv_holds_a_request(const std::vector<Request>& reqs, std::int64_t blocks, std::int64_t block_size,
                              std::int64_t engines, const KvFit& fit);

}  // namespace llmsim
