// summary.json `power` (docs/outputs.md "power"): device energy by component, host
// overhead, wall and facility energy, average / peak / windowed power.
#include <map>

#include "models/device.h"
#include "models/network.h"
#include "models/power_governor.h"
#include "sim/engine/power_report.h"
#include "sim/engine/simulation.h"
#include "sim/net/flow_net.h"
#include "sim/topo/topology.h"

namespace llmsim {
namespace {

bool is_nic_link(const std::string& kind) { return kind == "infiniband" || kind == "roce" || kind == "ethernet"; }

struct FabricEnergy {
  Joules links = 0, nics = 0, switches = 0;
  Json by_fabric = Json::object();
};

// Traffic energy of the fabric: payload bytes each directed link carried x its pj_per_bit
// (the SerDes / PHY at both ends: a NIC for InfiniBand / RoCE / Ethernet links), plus the
// bytes entering each switch x its fabric's switch_pj_per_bit (docs/models.md "Power").
FabricEnergy fabric_energy(Simulation& sim) {
  FabricEnergy e;
  const Topology& topo = sim.topo();
  FlowNet& net = sim.network().flows();
  std::map<std::string, Joules> by_fabric;
  for (size_t l = 0; l < topo.links.size(); ++l) {
    const LinkInfo& li = topo.links[l];
    if (!(li.params.pj_per_bit > 0)) continue;
    const double bytes = net.link_counters(2 * static_cast<int>(l)).bytes +
                         net.link_counters(2 * static_cast<int>(l) + 1).bytes;
    const Joules j = bytes * 8 * li.params.pj_per_bit * 1e-12;
    (is_nic_link(li.params.kind) ? e.nics : e.links) += j;
    by_fabric[li.fabric] += j;
  }
  for (size_t v = 0; v < topo.vertices.size(); ++v) {
    const VertexInfo& vi = topo.vertices[v];
    if (vi.kind != VertexInfo::Kind::Switch || vi.fabric < 0) continue;
    const FabricInfo& f = topo.fabrics[static_cast<size_t>(vi.fabric)];
    if (!(f.switch_pj_per_bit > 0)) continue;
    const Joules j = net.switch_counters(static_cast<int>(v)).bytes.value() * 8 * f.switch_pj_per_bit * 1e-12;
    e.switches += j;
    by_fabric[f.name] += j;
  }
  for (const auto& kv : by_fabric) e.by_fabric[kv.first] = kv.second;
  return e;
}

}  // namespace

Json power_summary(Simulation& sim) {
  const PowerSetup& ps = sim.topo().power;
  const Seconds t = to_seconds(sim.now());
  Json devices = Json::array();
  std::map<std::string, Joules> by_component;  // summed over devices, by resource name
  Joules dev_energy = 0;
  Watts tdp_sum = 0;
  for (int d = 0; d < sim.num_devices(); ++d) {
    const int src = sim.energy_source(d);
    Json j = sim.power(src).report();
    if (src != d) {  // folded: its twin's activity, under its own name
      j["device"] = sim.device(d).label();
      j["mirrors"] = sim.device(src).label();
    }
    for (const auto& kv : j["components_j"].items()) by_component[kv.key()] += kv.value().get<double>();
    dev_energy += j["energy_j"].get<double>();
    tdp_sum += sim.device(d).chip().power.tdp;
    devices.push_back(std::move(j));
  }
  PowerSeries& sys = sim.system_power();
  sys.advance(sim.now());
  for (auto& n : sim.node_power())
    if (n) n->flush();
  Json out;
  out["devices_energy_j"] = dev_energy;
  out["devices_avg_power_w"] = t > 0 ? dev_energy / t : Watts{0};
  out["devices_peak_power_w"] = sys.peak();
  out["devices_max_window_avg_w"] = sys.max_window_avg();
  out["window_s"] = ps.window;
  out["tdp_sum_w"] = tdp_sum;
  Json comp;
  for (const auto& kv : by_component) comp[kv.first] = kv.second;
  const FabricEnergy fab = fabric_energy(sim);
  comp["links"] = fab.links;
  comp["nics"] = fab.nics;
  comp["switches"] = fab.switches;
  out["components_j"] = comp;
  out["fabric_energy_j"] = fab.by_fabric;
  const Joules host = ps.host_per_node * sim.topo().nodes * t;
  const Joules network = fab.links + fab.nics + fab.switches;
  out["network_energy_j"] = network;
  out["host_energy_j"] = host;
  out["host_per_node_w"] = ps.host_per_node;
  out["psu_efficiency"] = ps.psu_efficiency;
  out["pue"] = ps.pue;
  const Joules wall = (dev_energy + network + host) / ps.psu_efficiency;
  out["wall_energy_j"] = wall;
  out["facility_energy_j"] = wall * ps.pue;
  out["facility_avg_power_w"] = t > 0 ? wall * ps.pue / t : Watts{0};
  out["capped"] = ps.capped();
  out["tdp_limit"] = ps.tdp_limit;
  Json groups = Json::array();
  for (auto& g : sim.power_groups()) groups.push_back(g->report(sim.now()));
  out["cap_groups"] = std::move(groups);
  out["devices"] = std::move(devices);
  return out;
}

}  // namespace llmsim
