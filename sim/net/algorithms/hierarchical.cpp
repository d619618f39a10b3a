// Hierarchical (NCCL across nodes, Horovod's hierarchical all-reduce): reduce-scatter
// inside each node over its fast fabric, all-reduce across nodes on rails (local rank j
// of every node forms ring j, so inter-node traffic stays on rail j as a rail-optimised
// fat tree wants, CHIPS.md), then all-gather inside each node. Every node and every rail
// works at once; each rail carries S / (GPUs per node).
#include <algorithm>
#include <cmath>

#include "sim/net/collective.h"

namespace llmsim {
namespace {

// NCCL moves a large collective through its node-local and network stages in chunks, so
// NVLink and rail work overlap. Modelled as pipeline lanes (Plan::lanes): up to this many,
// as long as each lane's rail step still carries at least kLaneMinStepBytes, since every
// lane pays the rail latency on every step.
constexpr int kMaxLanes = 4;
constexpr Bytes kLaneMinStepBytes = 1024 * 1024;

class Hierarchical : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology& topo, const CollectiveRequest& req) const override {
    if (req.kind != CollectiveKind::AllReduce && req.kind != CollectiveKind::AllGather &&
        req.kind != CollectiveKind::ReduceScatter)
      return "hierarchical runs all-reduce, all-gather and reduce-scatter";
    auto nodes = members_by_node(topo, req.group);
    if (nodes.empty()) return "group members are not spread evenly over nodes";
    if (nodes.size() < 2) return "group lies inside one node";
    return "";
  }

  Plan plan(const Topology& topo, const CollectiveRequest& req) const override {
    Plan plan;
    auto nodes = members_by_node(topo, req.group);
    int N = static_cast<int>(nodes.size());
    int l = static_cast<int>(nodes.front().size());
    double S = req.bytes;
    auto intra = make_pattern();
    for (auto& members : nodes) add_ring(*intra, members);
    auto inter = make_pattern();
    for (int j = 0; j < l; ++j) {
      std::vector<int> rail;
      for (auto& members : nodes) rail.push_back(members[static_cast<size_t>(j)]);
      add_ring(*inter, rail);
    }
    double shard = S / l;  // what each rail carries
    bool ar = req.kind == CollectiveKind::AllReduce;
    if (req.kind != CollectiveKind::AllGather && l > 1) plan.stages.push_back({intra, S / l, l - 1, "intra"});
    if (ar) {
      plan.stages.push_back({inter, shard / N, 2 * (N - 1), "inter"});
    } else {
      // all-gather of S: a rail gathers N pieces of S / (l N) before the node exchange;
      // reduce-scatter mirrors it.
      plan.stages.push_back({inter, shard / N, N - 1, "inter"});
    }
    if (req.kind == CollectiveKind::AllGather && l > 1) plan.stages.push_back({intra, S / l, l - 1, "intra"});
    if (ar && l > 1) plan.stages.push_back({intra, S / l, l - 1, "intra"});
    if (l > 1) {
      double per_step = shard / N;
      plan.lanes = static_cast<int>(std::clamp(std::floor(per_step / kLaneMinStepBytes), 1.0, double(kMaxLanes)));
    }
    if (l > 1) plan.dims.push_back({"intra", S, l});
    plan.dims.push_back({"inter", shard, N});
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(Hierarchical, "hierarchical");
}  // namespace llmsim
