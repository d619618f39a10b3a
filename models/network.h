// The network module: links and switches of the topology, flow-level transfers with
// max-min fair sharing (sim/net/flow_net.h), and collectives decomposed into transfers
// by self-registering algorithms (sim/net/collective.h, sim/net/algorithms/).
#pragma once
#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/units.h"
#include "sim/net/collective_kind.h"

namespace llmsim {

struct Plan;

class Device;
class ModelContext;
class FlowNet;
class FabricModule;
struct ChipSpec;
class CollectiveRunner;
struct CollectiveLibrary;

class Network : public sc_core::sc_module {
 public:
  Network(const sc_core::sc_module_name& name, ModelContext& sim);
  ~Network() override;

  // Point-to-point transfer of `bytes` from device `src` to device `dst` along the
  // topology route; `done` runs at completion time.
  void transfer(int src, int dst, Bytes bytes, std::function<void()> done);

  // A collective over `group` (device indices; all participate) of nccl-tests "size"
  // `bytes` (all-reduce: the buffer; all-gather: the gathered output; reduce-scatter: the
  // input). `algorithm`: auto | ring | tree | direct | halving-doubling | hierarchical |
  // torus | in-switch. `root` is a rank index in `group`. `done` receives the result.
  // Throws InputError (no position; callers add theirs) for a request the algorithm or
  // fabric cannot run, InfeasibleError when the group is partitioned.
  void collective(CollectiveKind kind, const std::vector<int>& group, Bytes bytes, const std::string& algorithm,
                  std::function<void(const CollectiveResult&)> done, int root = 0);

  // What `collective` would take for this request on an idle network, without running
  // it: estimate_plan of the plan it would run (exact where the flow model takes its fast
  // path). For a collective the executor times but does not simulate (serving's logits
  // all-gather: one event instead of a ring's steps, no kernel hold, no link bytes).
  Seconds idle_collective_time(CollectiveKind kind, const std::vector<int>& group, Bytes bytes,
                               const std::string& algorithm);

  // Link state changes, effective now (FlowNet, docs/models.md "State changes"): every link
  // joining vertices u and v, both directions (one_way: only u -> v). Flows in flight are
  // re-rated, or rerouted when their link goes down (InfeasibleError when no route is left).
  void set_link_bandwidth(int u, int v, BytesPerSecond bw, bool one_way = false);
  void set_link_bandwidth_fraction(int u, int v, double fraction_of_nominal, bool one_way = false);
  void set_link_up(int u, int v, bool up);

  FlowNet& flows() { return *flows_; }
  // The collective library collectives run under: the system default stack's, set at
  // construction; the run replaces it with the workload's named stack's before the first
  // collective (cached plans keep the library they were made with). nullptr = none.
  void set_collective_library(std::shared_ptr<const CollectiveLibrary> library);
  const CollectiveLibrary* collective_library() const;
  // Builds one top-level FabricModule per fabric (`PREFIX + fabric name`) with its switch
  // and link modules, and binds every link to its endpoints (device ports, switches).
  // Called once, after the devices exist.
  void build_fabrics(const std::string& prefix);
  const std::vector<std::unique_ptr<FabricModule>>& fabrics() const { return fabrics_; }

 private:
  // Occupies each member's units and memory bandwidth for the collective's kernel.
  std::vector<std::pair<int, std::uint64_t>> hold_kernels(CollectiveKind kind, const std::vector<int>& group,
                                                          Bytes bytes, const Plan& plan);
  struct KernelChip {
    BytesPerSecond links = 0;    // network ports' payload rate per direction, less PCIe
    int tier = -1;               // the activations tier's arbiter index (-1: none)
    double joules_per_byte = 0;  // the activations tier's energy per byte
  };
  const KernelChip& kernel_chip(Device& device);
  std::map<const ChipSpec*, KernelChip> kernel_chip_;
  // estimate_plan of a resolved plan, computed once per plan object (Plan::idle_estimate):
  // the runner's cached plans recur every serving step.
  Seconds idle_time(const Plan& plan);

  ModelContext& sim_;
  std::unique_ptr<FlowNet> flows_;
  std::unique_ptr<CollectiveRunner> runner_;
  std::vector<std::unique_ptr<FabricModule>> fabrics_;
};

}  // namespace llmsim
