// The fabric loader: parses one `fabrics:` entry and runs the builder its `shape:` names
// (sim/topo/shapes/, one file per shape, registered by name), plus the helpers builders
// share and the registry itself.
#include <map>

#include "sim/topo/shapes/shape.h"

namespace llmsim {
namespace topo_detail {
namespace {

struct RegisteredShape {
  ShapeRegistry::Builder build;
  bool link_required;
};

// Function-local static: shapes register during static initialisation of other
// translation units, in an order C++ does not define. std::map keeps names() sorted.
std::map<std::string, RegisteredShape>& shapes() {
  static std::map<std::string, RegisteredShape> m;
  return m;
}

}  // namespace

bool ShapeRegistry::add(const std::string& name, Builder build, bool link_required) {
  shapes()[name] = {build, link_required};
  return true;
}

ShapeRegistry::Builder ShapeRegistry::get(const std::string& name) {
  auto it = shapes().find(name);
  return it == shapes().end() ? nullptr : it->second.build;
}

bool ShapeRegistry::link_required(const std::string& name) {
  auto it = shapes().find(name);
  return it == shapes().end() || it->second.link_required;
}

std::vector<std::string> ShapeRegistry::names() {
  std::vector<std::string> n;
  for (const auto& kv : shapes()) n.push_back(kv.first);
  return n;
}

long long bounded(Params& f, const std::string& key, long long max) {
  long long v = f.positive(key);
  if (v > max) f.fail(key, "must be at most " + std::to_string(max) + ", got " + std::to_string(v));
  return v;
}

int add_switch(ShapeContext& c, const std::string& local_name) {
  if (c.t.num_switches() >= kMaxSwitches) c.f.fail("shape", "builds more than " + std::to_string(kMaxSwitches) + " switches");
  VertexInfo v;
  v.kind = VertexInfo::Kind::Switch;
  v.name = c.prefix + c.fab.name + "." + local_name;
  v.in_network_reduction = c.fab.in_network_reduction;
  v.switch_latency = c.fab.switch_latency;
  v.fabric = c.fab_id;
  int id = c.t.add_vertex(v);
  c.inst.switches.push_back(id);
  return id;
}

void link(ShapeContext& c, int a, int b, double bw_scale, int dim, const LinkParams* params) {
  if (static_cast<long long>(c.t.links.size()) >= kMaxLinks)
    c.f.fail("shape", "builds more than " + std::to_string(kMaxLinks) + " links; use a switch or fat-tree shape");
  LinkInfo l;
  l.a = a;
  l.b = b;
  l.params = params ? *params : c.fab.link;
  l.params.bandwidth *= bw_scale * c.fab.parallel;
  l.fabric = c.fab.name;
  l.fabric_id = c.fab_id;
  l.dim = dim;
  c.t.add_link(l);
}

void add_fabric(Topology& t, const YAML::Node& node, const std::string& file, const std::string& what,
                const std::vector<int>& members, int level, const std::string& prefix, YAML::Node resolved) {
  Params f("topology.fabrics[]", node, file, what, resolved);
  FabricInfo fab;
  fab.pos = f.pos();
  fab.type = f.choice("type");
  fab.name = f.str("name", fab.type);
  for (const auto& other : t.fabrics)
    if (other.name == fab.name && other.level == level) f.fail("name", "duplicate fabric name '" + fab.name + "'");
  fab.shape = f.choice("shape");
  fab.level = level;
  fab.in_network_reduction = f.boolean("in_network_reduction");
  fab.reduction_efficiency = f.num("reduction_efficiency");
  if (!(fab.reduction_efficiency > 0 && fab.reduction_efficiency <= 1)) f.fail("reduction_efficiency", "must be in (0, 1]");
  fab.reduction_startup = f.qty("reduction_startup");
  if (fab.reduction_startup < 0) f.fail("reduction_startup", "must not be negative");
  fab.reduction_source = f.str("reduction_source");
  fab.switch_latency = f.qty("switch_latency");
  if (fab.switch_latency < 0) f.fail("switch_latency", "must not be negative");
  fab.switch_pj_per_bit = f.num("switch_pj_per_bit");
  if (fab.switch_pj_per_bit < 0) f.fail("switch_pj_per_bit", "must not be negative");
  fab.parallel = static_cast<int>(bounded(f, "parallel", 65536));
  LinkParams base;
  base.kind = fab.type;
  if (!ShapeRegistry::link_required(fab.shape)) {
    if (f.has("link")) base = parse_link(f, "link", what + ".link", base);
    else f.opt("link");
  } else {
    base = parse_link(f, "link", what + ".link", base);
  }
  fab.link = base;
  int fab_id = static_cast<int>(t.fabrics.size());
  t.fabrics.push_back(fab);
  FabricInstance inst;
  inst.fabric = fab_id;
  inst.members = members;
  ShapeContext c{t, t.fabrics.back(), fab_id, inst, prefix, f};
  ShapeRegistry::get(fab.shape)(c);  // `shape` is one of the registered names (f.choice)
  f.finish();
  if (fab.shape == "torus" && members.size() == static_cast<size_t>(t.num_devices()) && t.torus_dims_.empty()) t.torus_dims_ = t.fabrics.back().dims;
  t.instances.push_back(std::move(inst));
}

}  // namespace topo_detail
}  // namespace llmsim
