#include "models/fabric.h"

#include <unordered_map>

#include "sim/topo/topology.h"

namespace llmsim {

std::string sc_safe_name(std::string name) {
  for (auto& c : name) if (c == '.' || c == ' ') c = '_';
  return name;
}

namespace {
// A vertex's name inside its fabric's module: the topology names switches with their
// fabric in front ("nvlink.sw0"), which the module path already says (nvlink.sw0).
std::string local_name(const Topology& topo, const std::string& vertex, int fabric) {
  const std::string& f = topo.fabrics[static_cast<std::size_t>(fabric)].name;
  if (vertex.size() > f.size() + 1 && vertex.compare(0, f.size(), f) == 0 && vertex[f.size()] == '.')
    return sc_safe_name(vertex.substr(f.size() + 1));
  return sc_safe_name(vertex);
}
}  // namespace

LinkEnd::LinkEnd(const sc_core::sc_module_name& name, int vertex)
    : sc_core::sc_module(name), end("end"), vertex_(vertex) {
  end.bind(*this);
}

LinkModule::LinkModule(const sc_core::sc_module_name& name, int link)
    : sc_core::sc_module(name), a("a"), b("b"), link_(link) {}

FabricModule::FabricModule(const sc_core::sc_module_name& name, const Topology& topo, int fabric)
    : sc_core::sc_module(name) {
  for (std::size_t v = 0; v < topo.vertices.size(); ++v) {
    const VertexInfo& vi = topo.vertices[v];
    if (vi.kind != VertexInfo::Kind::Switch || vi.fabric != fabric) continue;
    switches_.push_back(std::make_unique<SwitchModule>(local_name(topo, vi.name, fabric).c_str(), static_cast<int>(v)));
    switch_vertex_.push_back(static_cast<int>(v));
  }
  std::unordered_map<std::string, int> names;
  for (std::size_t l = 0; l < topo.links.size(); ++l) {
    const LinkInfo& li = topo.links[l];
    if (li.fabric_id != fabric) continue;
    std::string n = local_name(topo, topo.vertices[static_cast<size_t>(li.a)].name, fabric) + "-" +
                    local_name(topo, topo.vertices[static_cast<size_t>(li.b)].name, fabric);
    // Two links between one pair (a 2-ring's wrap-around): SystemC would rename with a warning.
    int& seen = names[n];
    if (seen++ > 0) n += "_" + std::to_string(seen);
    links_.push_back(std::make_unique<LinkModule>(n.c_str(), static_cast<int>(l)));
  }
}

SwitchModule* FabricModule::switch_of(int vertex) const {
  for (std::size_t i = 0; i < switch_vertex_.size(); ++i) {
    if (switch_vertex_[i] == vertex) return switches_[i].get();
  }
  return nullptr;
}

}  // namespace llmsim
