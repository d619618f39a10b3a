// One-shot all-reduce (TensorRT-LLM's ONESHOT, vLLM's cross_device_reduce_1stage): every
// rank reads every other rank's whole buffer and sums locally: one step of S per pair,
// where the two-shot `direct` (reduce-scatter then all-gather) takes two steps of S / n.
// Half the steps of latency for n / 2 times the bytes per link: the cheaper form for
// small messages. All-reduce only; `auto` runs it as a stack's custom all-reduce
// (collective_library.h custom_allreduce_runs), a microbench may name it.
#include "sim/net/collective.h"

namespace llmsim {
namespace {

// n(n-1) transfers of the whole message: meant for one NVLink / xGMI domain.
constexpr int kOneShotMaxRanks = 64;

class OneShot : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology&, const CollectiveRequest& req) const override {
    if (req.kind != CollectiveKind::AllReduce) return "one-shot is an all-reduce algorithm";
    if (req.group.size() > static_cast<size_t>(kOneShotMaxRanks))
      return "one-shot sends the whole message to every peer: at most " + std::to_string(kOneShotMaxRanks) + " ranks";
    return "";
  }

  Plan plan(const Topology&, const CollectiveRequest& req) const override {
    Plan plan;
    auto p = make_pattern();
    for (int a : req.group)
      for (int b : req.group)
        if (a != b) add_pair(*p, a, b);
    plan.stages.push_back({p, req.bytes, 1, "one-shot"});
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(OneShot, "one-shot");
}  // namespace llmsim
