// In-switch reduction (NVLink SHARP / NVLS on NVSwitch, SHARP on InfiniBand): each GPU
// sends its buffer to the switch once and receives the reduced result once (multicast),
// so all-reduce moves ~S each way instead of 2(n-1)/n S: busbw ~ 2(n-1)/n x link bw
// (CHIPS.md collective hints, [NV-NVSwitch-blog]). Data is spread over every reducing
// switch adjacent to all members (a DGX H100's NVSwitch chips). Up and down streams
// overlap (the switch pipelines), so one phase carries both.
#include "sim/net/collective.h"

namespace llmsim {
namespace {

// Fraction of link bandwidth NVLS sustains. Calibration C3 (CALIBRATION.md): NCCL 2.18.5
// NVLS all-reduce on a DGX H100 reaches busbw 478.9 GB/s at 8 GB, i.e. algbw 273.7 GB/s
// per GPU each way, on NVLink4 links of 450 GB/s per direction: 273.7 / 450 = 0.608.
// The gap is NVLink packet overhead plus the switch's reduction throughput.
constexpr double kInSwitchEfficiency = 0.608;
// Fixed cost of an NVLS collective before data moves (kernel launch, multicast-object
// barrier). Fitted to C3's 1 MB point: 1 MB at busbw 43.7 GB/s takes 40.0 us, of which
// the bandwidth and link-latency terms above account for 4.7 us.
constexpr Seconds kInSwitchStartup = 35e-6;

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
    plan.startup = kInSwitchStartup;
    auto sw = reducing_switches(topo, req.group);
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
    plan.stages.push_back({p, per_switch / kInSwitchEfficiency, 1, "in-switch"});
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(InSwitch, "in-switch");
}  // namespace llmsim
