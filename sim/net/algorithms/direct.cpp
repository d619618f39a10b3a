// Direct: every rank talks to every other at once, so a full mesh (MI300X,
// Gaudi) uses all its links instead of the two a ring uses (CHIPS.md collective hints).
// All-reduce = direct reduce-scatter (S/n to each owner) + direct all-gather (two-shot;
// one-shot.cpp sends the whole message instead).
#include "sim/net/collective.h"

namespace llmsim {
namespace {

// One-shot means n(n-1) concurrent transfers, each with its own route: beyond this many
// ranks the plan alone would take gigabytes (16,384 ranks: 268 M routes).
constexpr int kDirectMaxRanks = 1024;

class Direct : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology&, const CollectiveRequest& req) const override {
    if (req.kind == CollectiveKind::SendRecv) return "send/recv is point to point";
    bool pairwise = req.kind != CollectiveKind::Broadcast && req.kind != CollectiveKind::Reduce;
    if (pairwise && req.group.size() > static_cast<size_t>(kDirectMaxRanks))
      return "one-shot over " + std::to_string(req.group.size()) + " ranks needs n(n-1) transfers; at most " +
             std::to_string(kDirectMaxRanks) + " ranks (use smaller groups, e.g. per node)";
    return "";
  }

  Plan plan(const Topology&, const CollectiveRequest& req) const override {
    Plan plan;
    int n = static_cast<int>(req.group.size());
    double S = req.bytes;
    const auto& g = req.group;
    int root = g[static_cast<size_t>(req.root)];
    auto p = make_pattern();
    switch (req.kind) {
      case CollectiveKind::Broadcast:
        for (int d : g)
          if (d != root) add_pair(*p, root, d);
        plan.stages.push_back({p, S, 1, "direct"});
        return plan;
      case CollectiveKind::Reduce:
        for (int d : g)
          if (d != root) add_pair(*p, d, root);
        plan.stages.push_back({p, S, 1, "direct"});
        return plan;
      default:
        break;
    }
    for (int a : g)
      for (int b : g)
        if (a != b) add_pair(*p, a, b);
    int stages = req.kind == CollectiveKind::AllReduce ? 2 : 1;
    for (int i = 0; i < stages; ++i) plan.stages.push_back({p, S / n, 1, "direct"});
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(Direct, "direct");
}  // namespace llmsim
