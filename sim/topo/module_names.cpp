#include "sim/topo/module_names.h"

#include <unordered_map>

namespace llmsim {

std::string sc_safe_name(std::string name) {
  for (auto& c : name) if (c == '.' || c == ' ') c = '_';
  return name;
}

std::string vertex_local_name(const Topology& topo, int vertex, int fabric) {
  const std::string& v = topo.vertices[static_cast<std::size_t>(vertex)].name;
  if (fabric >= 0 && static_cast<std::size_t>(fabric) < topo.fabrics.size()) {
    const std::string& f = topo.fabrics[static_cast<std::size_t>(fabric)].name;
    if (v.size() > f.size() + 1 && v.compare(0, f.size(), f) == 0 && v[f.size()] == '.')
      return sc_safe_name(v.substr(f.size() + 1));
  }
  return sc_safe_name(v);
}

std::vector<std::string> link_module_names(const Topology& topo) {
  std::vector<std::string> names(topo.links.size());
  std::vector<std::unordered_map<std::string, int>> seen(topo.fabrics.size() + 1);
  for (std::size_t l = 0; l < topo.links.size(); ++l) {
    const LinkInfo& li = topo.links[l];
    std::string n = vertex_local_name(topo, li.a, li.fabric_id) + "-" + vertex_local_name(topo, li.b, li.fabric_id);
    std::size_t f = li.fabric_id >= 0 ? static_cast<std::size_t>(li.fabric_id) : topo.fabrics.size();
    int& count = seen[f][n];
    if (count++ > 0) n += "_" + std::to_string(count);
    names[l] = n;
  }
  return names;
}

}  // namespace llmsim
