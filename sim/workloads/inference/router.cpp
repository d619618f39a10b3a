#include "sim/workloads/inference/router.h"

namespace llmsim {
namespace {

bool is_up(const ReplicaHealth* health, std::size_t r) { return health == nullptr || health->up(r); }

std::size_t least_loaded(const std::vector<const ReplicaScheduler*>& replicas, std::size_t lo, std::size_t hi,
                         const ReplicaHealth* health) {
  std::size_t pick = lo;
  std::int64_t best = -1;
  for (std::size_t r = lo; r < hi; ++r) {
    if (!is_up(health, r)) continue;
    std::int64_t load = replicas[r]->outstanding_tokens();
    if (best < 0 || load < best) {
      best = load;
      pick = r;
    }
  }
  return pick;
}

}  // namespace

std::size_t route_request(const RouterPolicy& p, const std::vector<const ReplicaScheduler*>& replicas, std::size_t lo,
                          std::size_t hi, std::size_t& rr, const std::uint64_t* keys, std::int64_t n,
                          const ReplicaHealth* health) {
  if (p.kind == "round-robin") {
    std::size_t pick = lo + rr++ % (hi - lo);
    for (std::size_t k = 0; k < hi - lo && !is_up(health, pick); ++k) pick = lo + rr++ % (hi - lo);
    return pick;
  }
  const std::size_t light = least_loaded(replicas, lo, hi, health);
  if (p.kind != "prefix-affinity" || n == 0) return light;
  // Longest cached prefix; ties to the lighter replica, then the lower index.
  std::size_t pick = light;
  std::int64_t best = 0;
  for (std::size_t r = lo; r < hi; ++r) {
    if (!is_up(health, r)) continue;
    const PrefixCache* c = replicas[r]->prefix_cache();
    const std::int64_t m = c ? c->match(keys, n).entries : 0;
    if (m > best || (m == best && m > 0 && replicas[r]->outstanding_tokens() < replicas[pick]->outstanding_tokens())) {
      best = m;
      pick = r;
    }
  }
  if (best == 0) return light;
  const double cap = p.load_cap * static_cast<double>(replicas[light]->outstanding_tokens() + p.slack_tokens);
  return static_cast<double>(replicas[pick]->outstanding_tokens()) <= cap ? pick : light;
}

}  // namespace llmsim
