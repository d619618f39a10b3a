// In-switch reduction (NVLink SHARP / NVLS on NVSwitch, SHARP on InfiniBand): each GPU
// sends its buffer to the switch once and receives the reduced result once (multicast),
// so all-reduce moves ~S each way instead of 2(n-1)/n S: busbw ~ 2(n-1)/n x link bw
// (CHIPS.md collective hints, [NV-NVSwitch-blog]). Data is spread over every reducing
// switch adjacent to all members (a DGX H100's NVSwitch chips). Up and down streams
// overlap (the switch pipelines), so one phase carries both.
#include "sim/net/collective.h"

namespace llmsim {
namespace {

// The fraction of link bandwidth the switch sustains and the fixed cost per collective
// (kernel launch, multicast-object barrier) are the fabric's fitted figures
// (FabricInfo::reduction_*, declared with their source in topology_params.cpp: C3).
const FabricInfo& reducing_fabric(const Topology& topo, int switch_vertex) {
  return topo.fabrics.at(static_cast<std::size_t>(topo.vertices.at(static_cast<std::size_t>(switch_vertex)).fabric));
}

class InSwitch : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology& topo, const CollectiveRequest& req) const override {
    if (req.kind == CollectiveKind::AllToAll || req.kind == CollectiveKind::SendRecv)
      return "switches reduce and multicast; all-to-all and send/recv are point to point";
    if (reducing_switches(topo, req.group).empty())
      return "no switch with in-network reduction (NVLS/SHARP) connects every member";
    return "";
  }

  Plan plan(const Topology& topo, const CollectiveRequest& req) const override {
    Plan plan;
    auto sw = reducing_switches(topo, req.group);
    const FabricInfo& fab = reducing_fabric(topo, sw.front());
    plan.startup = fab.reduction_startup;
    double n = static_cast<double>(req.group.size());
    int root = req.group[static_cast<size_t>(req.root)];
    // Weights per direction, relative to S / switches: what a member sends up and what it
    // receives back down.
    double up = 1, down = 1;
    if (req.kind == CollectiveKind::ReduceScatter) down = 1 / n;
    if (req.kind == CollectiveKind::AllGather) up = 1 / n;
    auto p = make_pattern();
    for (int s : sw) {
      for (int d : req.group) {
        bool sends = req.kind != CollectiveKind::Broadcast || d == root;
        bool gets = req.kind != CollectiveKind::Reduce || d == root;
        if (sends) add_pair(*p, d, s, up == 1 ? 1.0 : up);
        if (gets && !(req.kind == CollectiveKind::Broadcast && d == root)) add_pair(*p, s, d, down == 1 ? 1.0 : down);
      }
    }
    double per_switch = req.bytes / static_cast<double>(sw.size());
    plan.stages.push_back({p, per_switch / fab.reduction_efficiency, 1, "in-switch"});
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(InSwitch, "in-switch");
}  // namespace llmsim
