#include "models/network.h"

#include "models/device.h"
#include "models/fabric.h"
#include "models/model_context.h"
#include "sim/net/collective.h"
#include "sim/net/flow_net.h"
#include "sim/net/runner.h"
#include "sim/ops/energy.h"

namespace llmsim {
namespace {
// Largest number of link directions (or devices) whose tracks are created up front.
constexpr size_t kMaxEagerTracks = 32768;
}  // namespace

Network::Network(const sc_core::sc_module_name& name, ModelContext& sim)
    : sc_core::sc_module(name), sim_(sim),
      flows_(std::make_unique<FlowNet>(sim.topo(), sim.queue(), sim.recorder())),
      runner_(std::make_unique<CollectiveRunner>(sim.topo(), sim.queue(), sim.recorder(), *flows_)) {
  // VCD signals must exist before the simulation starts, so tracks are made here, while
  // elaborating, for systems small enough to read as waveforms; bigger ones create
  // tracks on first use (timeline only; use --timeline-filter to select).
  if (sim.recorder().on() && sim.topo().links.size() * 2 <= kMaxEagerTracks) flows_->create_tracks();
  if (sim.recorder().on() && sim.topo().num_devices() <= static_cast<int>(kMaxEagerTracks)) runner_->create_tracks();
  // Collectives run under the library of the system's default software stack
  // (topologies/software/defaults.yaml -> collective.library -> topologies/collectives/).
  runner_->set_library(default_collective_library(sim.topo()));
}

Network::~Network() = default;

void Network::set_collective_library(std::shared_ptr<const CollectiveLibrary> library) {
  runner_->set_library(std::move(library));
  kernel_chip_.clear();  // the ports' payload rate follows the library's link shares
}

const CollectiveLibrary* Network::collective_library() const { return runner_->library(); }

void Network::build_fabrics(const std::string& prefix) {
  const Topology& topo = sim_.topo();
  std::vector<LinkEnd*> end_of(topo.vertices.size(), nullptr);
  const std::vector<std::string> link_names = link_module_names(topo);
  for (std::size_t f = 0; f < topo.fabrics.size(); ++f) {
    std::string name = prefix + sc_safe_name(topo.fabrics[f].name);
    fabrics_.push_back(std::make_unique<FabricModule>(name.c_str(), topo, static_cast<int>(f), link_names));
    for (const auto& sw : fabrics_.back()->switches()) end_of[static_cast<std::size_t>(sw->vertex())] = sw.get();
  }
  auto end_for = [&](int vertex, int link) -> LinkEnd* {
    if (LinkEnd* sw = end_of[static_cast<std::size_t>(vertex)]) return sw;
    const int dev = topo.vertices[static_cast<std::size_t>(vertex)].device;
    return dev >= 0 && dev < sim_.num_devices() ? sim_.device(dev).port_of_link(link) : nullptr;
  };
  for (const auto& fab : fabrics_) {
    for (const auto& lm : fab->links()) {
      const LinkInfo& li = topo.links[static_cast<std::size_t>(lm->link())];
      LinkEnd* a = end_for(li.a, lm->link());
      LinkEnd* b = end_for(li.b, lm->link());
      if (a) lm->a.bind(a->end);
      if (b) lm->b.bind(b->end);
    }
  }
}

void Network::transfer(int src, int dst, Bytes bytes, std::function<void()> done) {
  flows_->transfer(src, dst, bytes, std::move(done));
}

void Network::collective(CollectiveKind kind, const std::vector<int>& group, Bytes bytes, const std::string& algorithm,
                         std::function<void(const CollectiveResult&)> done, int root) {
  // Planned first (cached in the runner): the kernel's memory traffic depends on the
  // algorithm and protocol it runs.
  auto plan = runner_->resolve(kind, group, bytes, algorithm, root);
  auto holds = std::make_shared<std::vector<std::pair<int, std::uint64_t>>>(hold_kernels(kind, group, bytes, *plan));
  runner_->collective(kind, group, bytes, algorithm,
                      [this, holds, d = std::move(done)](const CollectiveResult& r) {
                        for (auto [dev, id] : *holds) sim_.device(dev).arbiter().release(id);
                        if (d) d(r);
                      },
                      root);
}

Seconds Network::idle_collective_time(CollectiveKind kind, const std::vector<int>& group, Bytes bytes,
                                      const std::string& algorithm) {
  return idle_time(*runner_->resolve(kind, group, bytes, algorithm));
}

Seconds Network::idle_time(const Plan& plan) {
  if (plan.idle_estimate < Seconds{0}) plan.idle_estimate = estimate_plan(sim_.topo(), plan);
  return plan.idle_estimate;
}

// Per chip, once: its network ports' payload rate, per direction, less PCIe (host traffic,
// not collectives), its activations tier's arbiter index (the same on every device of the
// chip: tiers are added in catalog order) and that tier's energy per byte.
const Network::KernelChip& Network::kernel_chip(Device& d) {
  const ChipSpec& chip = d.chip();
  auto it = kernel_chip_.find(&chip);
  if (it != kernel_chip_.end()) return it->second;
  const CollectiveLibrary* lib = runner_->library();
  KernelChip k;
  for (const auto& p : chip.ports)
    if (p.kind != "pcie") k.links += p.count * p.bandwidth * (lib ? lib->efficiency_on(p.kind) : 1.0);
  k.tier = d.arbiter().tier_index(chip.placement.activations);
  if (const MemoryTierSpec* t = chip.tier(chip.placement.activations))
    k.joules_per_byte = tier_pj_per_byte(chip, *t) * 1e-12;
  return kernel_chip_.emplace(&chip, k).first->second;
}

// While a collective runs, its kernel occupies `collective_units` on every member and
// streams HBM: per payload byte crossing the device's links a reduction reads its own
// chunk and the received one and writes the sum (3 bytes), a copy-only collective reads
// and writes once (2), and so does an in-switch reduction (the switch adds; the GPU reads
// its buffer and writes the multicast result). The cap is the payload rate of the links
// running full under the library's protocol: nominal rate x the library's measured share
// on that link kind x the protocol's payload fraction (LL: half). The arbiter grants less
// when the tier is contended (the collective itself is not slowed by that:
// docs/models.md).
std::vector<std::pair<int, std::uint64_t>> Network::hold_kernels(CollectiveKind kind, const std::vector<int>& group,
                                                                 Bytes bytes, const Plan& plan) {
  std::vector<std::pair<int, std::uint64_t>> holds;
  holds.reserve(group.size());
  const bool reduces = kind == CollectiveKind::AllReduce || kind == CollectiveKind::ReduceScatter ||
                       kind == CollectiveKind::Reduce;
  const bool in_switch = plan.algorithm == "in-switch";
  const double per_link_byte = reduces && !in_switch ? 3.0 : 2.0;
  const CollectiveLibrary* lib = runner_->library();
  const CollectiveProtocol* proto = lib && !plan.protocol.empty() ? lib->protocol(plan.protocol) : nullptr;
  const double payload = proto ? proto->payload_fraction : 1.0;
  // The kernel's HBM bytes on each member: per_link_byte per payload byte of its links
  // (busbw_factor x S a rank sends, nccl-tests' definition); in-switch, the GPU reads its
  // buffer once and takes the multicast result once (2 S). Over the plan's time on the idle
  // network that is the kernel's average HBM rate: a latency-bound collective streams far
  // below its links' rate.
  const int n = static_cast<int>(group.size());
  const double hbm_bytes = in_switch ? 2.0 * bytes : per_link_byte * busbw_factor(kind, n) * bytes;
  const Seconds idle = hbm_bytes > 0 ? idle_time(plan) : Seconds{0};
  for (int dev : group) {
    if (dev < 0 || dev >= sim_.num_devices()) continue;
    Device& d = sim_.device(dev);
    const ChipSpec& chip = d.chip();
    std::vector<ResourceDemand> demands;
    if (chip.compute.collective_units > 0) {
      demands.reserve(2);  // one allocation, not two: this runs per member per collective
      demands.push_back({ResourceArbiter::kCompute, 1, static_cast<double>(chip.compute.collective_units)});
      const KernelChip& k = kernel_chip(d);
      if (k.tier >= 0 && k.links > 0 && hbm_bytes > 0) {  // a group of one moves nothing
        double rate = (per_link_byte * payload * k.links).value();
        if (idle > 0) rate = std::min(rate, hbm_bytes / idle);
        // Its bytes draw the tier's energy while it runs (docs/models.md "Power").
        demands.push_back({k.tier, 1, rate, k.joules_per_byte});
      }
    }
    if (!demands.empty()) holds.push_back({dev, d.arbiter().hold(std::move(demands))});
  }
  return holds;
}

void Network::set_link_bandwidth(int u, int v, BytesPerSecond bw, bool one_way) {
  flows_->set_link_bandwidth(u, v, bw, one_way);
}

void Network::set_link_bandwidth_fraction(int u, int v, double fraction_of_nominal, bool one_way) {
  flows_->set_link_bandwidth_fraction(u, v, fraction_of_nominal, one_way);
}

void Network::set_link_up(int u, int v, bool up) { flows_->set_link_up(u, v, up); }

}  // namespace llmsim
