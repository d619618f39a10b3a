#include "models/fabric.h"

#include "sim/topo/topology.h"

namespace llmsim {

LinkEnd::LinkEnd(const sc_core::sc_module_name& name, int vertex)
    : sc_core::sc_module(name), end("end"), vertex_(vertex) {
  end.bind(*this);
}

LinkModule::LinkModule(const sc_core::sc_module_name& name, int link)
    : sc_core::sc_module(name), a("a"), b("b"), link_(link) {}

FabricModule::FabricModule(const sc_core::sc_module_name& name, const Topology& topo, int fabric,
                           const std::vector<std::string>& link_names)
    : sc_core::sc_module(name) {
  for (std::size_t v = 0; v < topo.vertices.size(); ++v) {
    const VertexInfo& vi = topo.vertices[v];
    if (vi.kind != VertexInfo::Kind::Switch || vi.fabric != fabric) continue;
    switches_.push_back(
        std::make_unique<SwitchModule>(vertex_local_name(topo, static_cast<int>(v), fabric).c_str(), static_cast<int>(v)));
  }
  for (std::size_t l = 0; l < topo.links.size(); ++l) {
    if (topo.links[l].fabric_id != fabric) continue;
    links_.push_back(std::make_unique<LinkModule>(link_names[l].c_str(), static_cast<int>(l)));
  }
}

}  // namespace llmsim
