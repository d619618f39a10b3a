// summary.json `power` (docs/outputs.md "power"): device energy by component, host
// overhead, wall and facility energy, average / peak / windowed power.
#include <map>

#include "models/device.h"
#include "models/power_governor.h"
#include "sim/engine/power_report.h"
#include "sim/engine/simulation.h"
#include "sim/topo/topology.h"

namespace llmsim {

Json power_summary(Simulation& sim) {
  const PowerSetup& ps = sim.topo().power;
  const Seconds t = to_seconds(sim.now());
  Json devices = Json::array();
  std::map<std::string, Joules> by_component;  // summed over devices, by resource name
  Joules dev_energy = 0;
  Watts tdp_sum = 0;
  for (int d = 0; d < sim.num_devices(); ++d) {
    Json j = sim.power(d).report();
    for (const auto& kv : j["components_j"].items()) by_component[kv.key()] += kv.value().get<double>();
    dev_energy += j["energy_j"].get<double>();
    tdp_sum += sim.device(d).chip().power.tdp;
    devices.push_back(std::move(j));
  }
  PowerSeries& sys = sim.system_power();
  sys.advance(sim.now());
  Json out;
  out["devices_energy_j"] = dev_energy;
  out["devices_avg_power_w"] = t > 0 ? dev_energy / t : 0.0;
  out["devices_peak_power_w"] = sys.peak();
  out["devices_max_window_avg_w"] = sys.max_window_avg();
  out["window_s"] = ps.window;
  out["tdp_sum_w"] = tdp_sum;
  Json comp;
  for (const auto& kv : by_component) comp[kv.first] = kv.second;
  // Links and switches: `pj_per_bit` is declared per link but traffic energy is not
  // charged yet (docs/models.md "Power"); reported as absent rather than as 0.
  comp["links"] = nullptr;
  out["components_j"] = comp;
  const Joules host = ps.host_per_node * sim.topo().nodes * t;
  out["host_energy_j"] = host;
  out["host_per_node_w"] = ps.host_per_node;
  out["psu_efficiency"] = ps.psu_efficiency;
  out["pue"] = ps.pue;
  const Joules wall = (dev_energy + host) / ps.psu_efficiency;
  out["wall_energy_j"] = wall;
  out["facility_energy_j"] = wall * ps.pue;
  out["facility_avg_power_w"] = t > 0 ? wall * ps.pue / t : 0.0;
  out["capped"] = ps.capped();
  out["devices"] = std::move(devices);
  return out;
}

}  // namespace llmsim
