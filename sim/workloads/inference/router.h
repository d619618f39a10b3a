// Request routing across replicas (engines): round-robin, least-loaded (least outstanding
// tokens), and prefix-affinity (the replica whose prefix cache holds the longest prefix
// of the prompt, as SGLang's cache-aware router and llm-d's prefix scorer do, unless that
// replica is overloaded). Pure logic over the replicas' schedulers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/workloads/inference/replica_failover.h"
#include "sim/workloads/inference/scheduler.h"

namespace llmsim {

struct RouterPolicy {
  std::string kind = "round-robin";    // round-robin | least-loaded | prefix-affinity
  // prefix-affinity: the longest-prefix replica is kept while its outstanding tokens are
  // at most load_cap x (least outstanding + slack_tokens); else the least-loaded one.
  double load_cap = 2.0;
  std::int64_t slack_tokens = 0;       // one iteration's max_batched_tokens
};

// Picks a replica in [lo, hi) for a request with prefix keys keys[0, n) (n may be 0).
// `rr` is the round-robin cursor. Ties go to the lowest index (deterministic). Replicas
// `health` marks down (a device failure, docs/faults.md) are skipped; the caller checks
// that one in [lo, hi) is up.
std::size_t route_request(const RouterPolicy& p, const std::vector<const ReplicaScheduler*>& replicas, std::size_t lo,
                          std::size_t hi, std::size_t& rr, const std::uint64_t* keys, std::int64_t n,
                          const ReplicaHealth* health = nullptr);

}  // namespace llmsim
