// Double binary tree (NCCL 2.4+, Sanders, Speck & Traeff 2009): two binary trees over the
// ranks, the second mirrored so that every leaf of one is an inner node of the other;
// each carries half the data, reduce up and broadcast down streaming in pipeline chunks.
// Latency grows with log2(n), which is why NCCL picks it for small messages across nodes.
// Broadcast / reduce use one binary tree rooted at the root.
#include "sim/net/algorithms/pipeline.h"
#include "sim/net/collective.h"

namespace llmsim {
namespace {

int depth_of(int n) {  // levels below the root of a heap-shaped binary tree of n nodes
  int d = 0;
  while ((1 << (d + 1)) - 1 < n) ++d;
  return d;
}

class Tree : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology&, const CollectiveRequest& req) const override {
    if (req.kind != CollectiveKind::AllReduce && req.kind != CollectiveKind::Broadcast &&
        req.kind != CollectiveKind::Reduce)
      return "trees run all-reduce, broadcast and reduce";
    return "";
  }

  Plan plan(const Topology&, const CollectiveRequest& req) const override {
    Plan plan;
    int n = static_cast<int>(req.group.size());
    const auto& g = req.group;
    int depth = depth_of(n);
    auto p = make_pattern();
    if (req.kind != CollectiveKind::AllReduce) {
      auto at = [&](int pos) { return g[static_cast<size_t>((req.root + pos) % n)]; };
      for (int pos = 1; pos < n; ++pos) {
        int child = at(pos), parent = at((pos - 1) / 2);
        if (req.kind == CollectiveKind::Broadcast)
          add_pair(*p, parent, child);
        else
          add_pair(*p, child, parent);
      }
      add_pipeline(plan, p, req.bytes, depth - 1, "tree");
      return plan;
    }
    // Reduce (child -> parent) and broadcast (parent -> child) stream concurrently in
    // both trees, half the data each: a 2 x depth hop pipeline.
    for (int t = 0; t < 2; ++t) {
      auto at = [&](int pos) { return g[static_cast<size_t>(t == 0 ? pos : n - 1 - pos)]; };
      for (int pos = 1; pos < n; ++pos) {
        int child = at(pos), parent = at((pos - 1) / 2);
        add_pair(*p, child, parent);
        add_pair(*p, parent, child);
      }
    }
    add_pipeline(plan, p, req.bytes / 2, 2 * depth - 1, "tree");
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(Tree, "tree");
}  // namespace llmsim
