#include "models/device.h"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

#include "models/model_context.h"
#include "models/power_governor.h"
#include "sim/topo/topology.h"

namespace llmsim {

Device::Device(const sc_core::sc_module_name& name, int index, const ChipSpec& chip, ModelContext& sim)
    : sc_core::sc_module(name), index_(index), chip_(chip), sim_(sim) {
  const auto& v = sim.topo().vertices;
  label_ = index >= 0 && static_cast<size_t>(index) < v.size() ? v[static_cast<size_t>(index)].name
                                                               : std::string(basename());
  // Children are built inside this constructor, so SystemC parents them to this module.
  arbiter_ = std::make_unique<ResourceArbiter>(sim.queue(), chip_.compute.units);
  for (const auto& t : chip_.memory) {
    tiers_.push_back(std::make_unique<MemoryTier>(t.tier.c_str(), chip_, t, sim_, label_, *arbiter_));
  }
  for (const auto& s : stream_names()) {
    streams_.push_back(std::make_unique<ComputeCore>(s.c_str(), chip_, sim_, label_, *arbiter_, s != "copy"));
  }
  make_ports();
}

// Ports are named after the fabric of their link and numbered within it (gpu0.ici0 ..
// gpu0.ici5 on a 3D torus). Incident links come from the Boost.Graph, O(degree).
void Device::make_ports() {
  const Topology& topo = sim_.topo();
  if (index_ < 0 || static_cast<std::size_t>(index_) >= boost::num_vertices(topo.graph)) return;
  std::vector<int> links;
  auto range = boost::out_edges(static_cast<TopoGraph::vertex_descriptor>(index_), topo.graph);
  for (auto e = range.first; e != range.second; ++e) links.push_back(boost::get(boost::edge_index, topo.graph, *e));
  std::sort(links.begin(), links.end());
  std::map<std::string, int> per_fabric;
  for (int l : links) {
    const LinkInfo& li = topo.links[static_cast<std::size_t>(l)];
    std::string fabric = li.fabric.empty() ? "port" : sc_safe_name(li.fabric);
    std::string name = fabric + std::to_string(per_fabric[fabric]++);
    ports_.push_back(std::make_unique<NetworkPort>(name.c_str(), index_));
    port_link_.push_back(l);
  }
}

NetworkPort* Device::port_of_link(int link) const {
  auto it = std::lower_bound(port_link_.begin(), port_link_.end(), link);
  if (it == port_link_.end() || *it != link) return nullptr;
  return ports_[static_cast<std::size_t>(it - port_link_.begin())].get();
}

const std::vector<std::string>& Device::stream_names() {
  static const std::vector<std::string> names = {"compute", "compute1", "copy"};
  return names;
}

ComputeCore* Device::stream(const std::string& name) {
  for (auto& s : streams_) if (name == s->basename()) return s.get();
  return nullptr;
}

void Device::set_clock(Hertz clock) {
  if (!(clock > 0)) throw std::invalid_argument(label_ + ": clock must be positive");
  // Voltage follows the clock along the DVFS curve (models/power_governor.h).
  const double s = clock / chip_.clock;
  arbiter_->set_operating_point(s, DvfsCurve::of(chip_, sim_.topo().power).energy_scale(s));
}

void Device::set_up(bool up) {
  if (up == this->up()) return;
  if (!up) down_since_ = sim_.now();
  arbiter_->set_paused(!up);
}

bool Device::has_tier(const std::string& name) const {
  for (const auto& t : tiers_) if (t->spec().tier == name) return true;
  return false;
}

MemoryTier& Device::tier(const std::string& name) {
  for (auto& t : tiers_) if (t->spec().tier == name) return *t;
  std::string list;
  for (const auto& t : tiers_) list += (list.empty() ? "" : ", ") + t->spec().tier;
  throw std::out_of_range(label_ + " (" + chip_.name + ") has no memory tier '" + name + "' (tiers: " + list + ")");
}

MemoryTier& Device::placement_tier(const std::string& kind) {
  const PlacementSpec& p = chip_.placement;
  if (kind == "weights") return tier(p.weights);
  if (kind == "kv_cache") return tier(p.kv_cache);
  if (kind == "activations") return tier(p.activations);
  if (kind == "optimizer") return tier(p.optimizer);
  throw std::out_of_range("unknown tensor kind '" + kind + "' (weights, kv_cache, activations, optimizer)");
}

void Device::move(const std::string& from, const std::string& to, Bytes bytes, std::function<void()> done) {
  MemoryTier& a = tier(from);
  MemoryTier& b = tier(to);
  // One read stream and one write stream; on the same tier they share its bandwidth.
  auto left = std::make_shared<int>(2);
  auto fin = [left, done] { if (--*left == 0 && done) done(); };
  a.transfer(bytes, fin);
  b.transfer(bytes, fin);
}

Joules Device::dynamic_energy() const {
  Joules e = 0;
  for (const auto& s : streams_) e += s->energy();
  for (const auto& t : tiers_) e += t->energy();
  // Ops are charged at nominal voltage; what running them below it saved comes off.
  return e - arbiter_->dvfs_saved_energy();
}

}  // namespace llmsim
