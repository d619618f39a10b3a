#include "sim/engine/simulation.h"

#include <systemc>

#include <algorithm>
#include <stdexcept>

#include "models/device.h"
#include "models/network.h"
#include "models/power_governor.h"

namespace llmsim {

Simulation::Simulation(const Topology& topo, RunOptions options) : topo_(topo), options_(std::move(options)) {
  queue_.set_tie_shuffle(options_.tie_shuffle);
}

Simulation::~Simulation() = default;

namespace {
// A module that only groups others: SystemC's hierarchy follows the topology's dotted
// names, so device "node3.gpu5" is module gpu5 inside module node3, and VCD scopes and
// timeline tracks equal module names.
class GroupModule : public sc_core::sc_module {
 public:
  explicit GroupModule(const sc_core::sc_module_name& name) : sc_core::sc_module(name) {}
};
}  // namespace

sc_core::sc_module* Simulation::group(const std::string& path) {
  auto it = group_at_.find(path);
  if (it != group_at_.end()) return it->second;
  const std::size_t dot = path.rfind('.');
  sc_core::sc_module* parent = dot == std::string::npos ? nullptr : group(path.substr(0, dot));
  sc_core::sc_simcontext* ctx = sc_core::sc_get_curr_simcontext();
  if (parent) ctx->hierarchy_push(parent);
  groups_.push_back(std::make_unique<GroupModule>(path.substr(dot == std::string::npos ? 0 : dot + 1).c_str()));
  if (parent) ctx->hierarchy_pop();
  return group_at_[path] = groups_.back().get();
}

void Simulation::elaborate(const std::string& prefix) {
  devices_.reserve(static_cast<size_t>(topo_.num_devices()));
  sc_core::sc_simcontext* ctx = sc_core::sc_get_curr_simcontext();
  for (int i = 0; i < topo_.num_devices(); ++i) {
    const std::string path = prefix + topo_.vertices[static_cast<size_t>(i)].name;
    const std::size_t dot = path.rfind('.');
    sc_core::sc_module* parent = dot == std::string::npos ? nullptr : group(path.substr(0, dot));
    if (parent) ctx->hierarchy_push(parent);
    devices_.push_back(std::make_unique<Device>(path.substr(dot == std::string::npos ? 0 : dot + 1).c_str(), i,
                                                *topo_.device_chip[static_cast<size_t>(i)], *this));
    if (parent) ctx->hierarchy_pop();
  }
  const PowerSetup& pw = topo_.power;
  system_power_ = std::make_unique<PowerSeries>(pw.window);
  power_.reserve(devices_.size());
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    // Power-limited clocks: the TDP caps every device unless `power: {tdp_limit: false}`.
    const ChipSpec& chip = devices_[i]->chip();
    Watts cap = i < pw.device_cap.size() ? pw.device_cap[i] : Watts{0};
    if (pw.tdp_limit) cap = cap > 0 ? std::min(cap, chip.power.tdp) : chip.power.tdp;
    power_.push_back(std::make_unique<PowerMonitor>(*devices_[i], *this, cap, pw.window, DvfsCurve::of(chip, pw),
                                                    system_power_.get()));
  }
  if (topo_.nodes > 1) {  // a power track per node: its devices' sum
    node_power_.resize(static_cast<std::size_t>(topo_.nodes));
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      const VertexInfo& v = topo_.vertices[i];
      auto& node = node_power_[static_cast<std::size_t>(v.node)];
      const std::size_t dot = v.name.rfind('.');  // "node3.gpu5": the node's group module
      if (!node)
        node = std::make_unique<NodePower>(
            dot == std::string::npos ? "node" + std::to_string(v.node) : v.name.substr(0, dot), *this);
      power_[i]->set_node(node.get());
    }
  }
  for (const PowerSetup::CapGroup& g : pw.cap_groups) {
    power_groups_.push_back(std::make_unique<PowerGroup>(g.name, g.total, pw.window));
    for (int d : g.devices) power_[static_cast<size_t>(d)]->join(power_groups_.back().get());
  }
  network_ = std::make_unique<Network>((prefix + "network").c_str(), *this);
  network_->build_fabrics(prefix);
}

void Simulation::stand_in(int folded, int twin) {
  if (twin_.empty())
    for (int d = 0; d < num_devices(); ++d) twin_.push_back(d);
  const auto f = static_cast<size_t>(folded), t = static_cast<size_t>(twin);
  if (folded == twin || twin_.at(f) != folded || twin_.at(t) != twin)
    throw std::logic_error("stand_in: a device stands in once, for a device that is not folded itself");
  twin_[f] = twin;
  power_[t]->set_system_weight(power_[t]->system_weight() + power_[f]->system_weight());
  power_[f]->set_system_weight(0);
}

Joules Simulation::devices_energy() {
  const Seconds t = to_seconds(now());
  Joules e = 0;
  for (int d = 0; d < num_devices(); ++d) e += device(energy_source(d)).energy(t);
  return e;
}

}  // namespace llmsim
