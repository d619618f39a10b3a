// Ring: ranks in group order, each sends to the next. All-reduce = reduce-scatter then
// all-gather, 2(n-1) steps of S/n (Patarasuk & Yuan 2009; NCCL's ring); busbw -> link bw.
// Broadcast / reduce stream S through the chain root -> ... in pipeline chunks.
#include "sim/net/algorithms/pipeline.h"
#include "sim/net/collective.h"

namespace llmsim {
namespace {

class Ring : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology&, const CollectiveRequest& req) const override {
    if (req.kind == CollectiveKind::AllToAll) return "a ring does not route all-to-all; use direct";
    if (req.kind == CollectiveKind::SendRecv) return "send/recv is point to point";
    return "";
  }

  Plan plan(const Topology&, const CollectiveRequest& req) const override {
    Plan plan;
    int n = static_cast<int>(req.group.size());
    double S = req.bytes;
    if (req.kind == CollectiveKind::Broadcast || req.kind == CollectiveKind::Reduce) {
      // Chain from the root through the ring order (reversed for reduce), streamed: every
      // hop carries S at once (a + S/B), then the pipeline fill of one chunk per extra
      // hop. Lock-step phases of one chunk each would charge the hop latency per chunk,
      // which a streaming pipeline overlaps.
      std::vector<int> order;
      for (int i = 0; i < n; ++i) order.push_back(req.group[static_cast<size_t>((req.root + i) % n)]);
      auto p = make_pattern();
      for (int i = 0; i + 1 < n; ++i) {
        if (req.kind == CollectiveKind::Broadcast)
          add_pair(*p, order[static_cast<size_t>(i)], order[static_cast<size_t>(i + 1)]);
        else
          add_pair(*p, order[static_cast<size_t>(i + 1)], order[static_cast<size_t>(i)]);
      }
      add_pipeline(plan, p, S, n - 2, "ring");
      return plan;
    }
    auto p = make_pattern();
    add_ring(*p, req.group);
    int steps = req.kind == CollectiveKind::AllReduce ? 2 * (n - 1) : n - 1;
    plan.stages.push_back({p, S / n, steps, "ring"});
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(Ring, "ring");
}  // namespace llmsim
