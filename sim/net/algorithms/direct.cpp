// Direct (one-shot): every rank talks to every other at once, so a full mesh (MI300X,
// Gaudi) uses all its links instead of the two a ring uses (CHIPS.md collective hints).
// All-reduce = direct reduce-scatter (S/n to each owner) + direct all-gather.
#include "sim/net/collective.h"

namespace llmsim {
namespace {

class Direct : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology&, const CollectiveRequest& req) const override {
    if (req.kind == CollectiveKind::SendRecv) return "send/recv is point to point";
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
