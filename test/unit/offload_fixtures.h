// Shared by the prefix-cache and KV-offload tests: prefix-block key chains, a scheduler
// with prefix caching on, and running a scheduler until it is idle (no simulation).
#pragma once
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "sim/traces/request.h"
#include "sim/workloads/inference/scheduler.h"

namespace llmsim_test {

// The chained keys of a prompt whose blocks hash to `ids` (vLLM's parent-chained hashes).
inline std::vector<std::uint64_t> chain(const std::vector<std::uint64_t>& ids) {
  std::vector<std::uint64_t> k;
  std::uint64_t p = 0;
  for (auto id : ids) k.push_back(p = llmsim::chain_block_key(p, id));
  return k;
}

// Prefix caching on, 10-token KV blocks, a cache entry of 4 of them.
inline llmsim::SchedulerConfig cached_config() {
  llmsim::SchedulerConfig c;
  c.max_batch = 8;
  c.max_batched_tokens = 1000;
  c.block_size = 10;
  c.max_context = 100000;
  c.prefix_caching = true;
  c.prefix_block_tokens = 40;  // a cache entry = 4 KV blocks
  return c;
}

inline void run_to_idle(llmsim::ReplicaScheduler& s) {
  llmsim::IterationShape sh;
  std::vector<std::size_t> first, done;
  for (int n = 0; !s.idle() && n < 10000; ++n) {
    REQUIRE(s.plan(sh));
    s.complete(first, done);
  }
  REQUIRE(s.idle());
}

}  // namespace llmsim_test
