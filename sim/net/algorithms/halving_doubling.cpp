// Recursive halving-doubling (Rabenseifner; Thakur, Rabenseifner & Gropp 2005): log2(n)
// pairwise exchanges of S/2, S/4, ... (reduce-scatter), then the mirror (all-gather).
// Latency log2(n) steps instead of 2(n-1); needs a power-of-two group. Broadcast / reduce
// use the binomial tree (distance doubling from the root).
#include <algorithm>

#include "sim/net/collective.h"

namespace llmsim {
namespace {

class HalvingDoubling : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology&, const CollectiveRequest& req) const override {
    int n = static_cast<int>(req.group.size());
    if (req.kind == CollectiveKind::AllToAll || req.kind == CollectiveKind::SendRecv)
      return "halving-doubling runs all-reduce, all-gather, reduce-scatter, broadcast and reduce";
    if (!is_power_of_two(n)) return "needs a power-of-two group, got " + std::to_string(n) + " ranks";
    return "";
  }

  Plan plan(const Topology&, const CollectiveRequest& req) const override {
    Plan plan;
    int n = static_cast<int>(req.group.size());
    double S = req.bytes;
    const auto& g = req.group;
    auto exchange = [&](int dist) {
      auto p = make_pattern();
      for (int i = 0; i < n; ++i) add_pair(*p, g[static_cast<size_t>(i)], g[static_cast<size_t>(i ^ dist)]);
      return p;
    };
    if (req.kind == CollectiveKind::Broadcast || req.kind == CollectiveKind::Reduce) {
      // Binomial tree over ranks relative to the root: round k doubles the holders.
      std::vector<Stage> rounds;
      for (int dist = 1; dist < n; dist <<= 1) {
        auto p = make_pattern();
        for (int r = 0; r < dist && r + dist < n; ++r) {
          int a = g[static_cast<size_t>((req.root + r) % n)], b = g[static_cast<size_t>((req.root + r + dist) % n)];
          if (req.kind == CollectiveKind::Broadcast)
            add_pair(*p, a, b);
          else
            add_pair(*p, b, a);
        }
        rounds.push_back({p, S, 1, "binomial"});
      }
      if (req.kind == CollectiveKind::Reduce) std::reverse(rounds.begin(), rounds.end());
      plan.stages = rounds;
      return plan;
    }
    bool rs = req.kind != CollectiveKind::AllGather;
    bool ag = req.kind != CollectiveKind::ReduceScatter;
    if (rs) {
      double chunk = S;
      for (int dist = n / 2; dist >= 1; dist /= 2) {
        chunk /= 2;
        plan.stages.push_back({exchange(dist), chunk, 1, "halving"});
      }
    }
    if (ag) {
      double chunk = S / n;
      for (int dist = 1; dist < n; dist *= 2) {
        plan.stages.push_back({exchange(dist), chunk, 1, "doubling"});
        chunk *= 2;
      }
    }
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(HalvingDoubling, "halving-doubling");
}  // namespace llmsim
