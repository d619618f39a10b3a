// Shape `links`: the fabric's links listed one by one (`links:`, `switches:`); it
// has no regular layout, so routing searches it. Its `link:` defaults are optional.
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/topo/shapes/shape.h"

namespace llmsim {
namespace topo_detail {
namespace {

// Explicit `links:` list; endpoints are device names or switches declared in `switches:`.
void build_links(ShapeContext& c) {
  c.inst.structured = false;
  if (YAML::Node sw = c.f.opt("switches")) {
    if (!sw.IsSequence()) c.f.fail("switches", "expected a list of switch names");
    for (auto s : sw) {
      std::string nm = as_string(s, c.f.file(), "switches");
      if (nm.empty() || nm.find_first_of(" \t") != std::string::npos)
        throw InputError(pos_of(s, c.f.file()), "switches: '" + nm + "' is not a valid name");
      if (c.t.vertex_by_name(c.prefix + nm) >= 0) throw InputError(pos_of(s, c.f.file()), "switches: duplicate name '" + nm + "'");
      VertexInfo v;
      v.kind = VertexInfo::Kind::Switch;
      v.name = c.prefix + nm;
      v.in_network_reduction = c.fab.in_network_reduction;
      v.switch_latency = c.fab.switch_latency;
      v.fabric = c.fab_id;
      c.inst.switches.push_back(c.t.add_vertex(v));
    }
  }
  YAML::Node list = c.f.get("links");
  if (!list.IsSequence()) c.f.fail("links", "expected a list of {a, b, bandwidth, latency} entries");
  std::set<std::pair<int, int>> seen;
  for (size_t idx = 0; idx < list.size(); ++idx) {
    Params lf = c.f.item("links", idx, "links[" + std::to_string(idx) + "]");
    int end[2];
    const char* keys[2] = {"a", "b"};
    for (int e = 0; e < 2; ++e) {
      std::string nm = lf.str(keys[e]);
      end[e] = c.t.vertex_by_name(c.prefix + nm);
      if (end[e] < 0) {
        std::vector<std::string> names;
        for (size_t v = 0; v < c.t.vertices.size() && names.size() < 4096; ++v) names.push_back(c.t.vertices[v].name);
        std::string near = nearest(c.prefix + nm, names);
        lf.fail(keys[e], "unknown endpoint '" + nm + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
      }
    }
    if (end[0] == end[1]) lf.fail("b", "a link cannot connect '" + lf.str("a") + "' to itself");
    auto key = std::minmax(end[0], end[1]);
    if (!seen.insert({key.first, key.second}).second)
      lf.fail("b", "duplicate link between '" + lf.str("a") + "' and '" + lf.str("b") + "'");
    LinkInfo l;
    l.a = end[0];
    l.b = end[1];
    l.params = parse_link_fields(lf, c.fab.link);
    l.fabric = c.fab.name;
    l.fabric_id = c.fab_id;
    lf.finish();
    c.t.add_link(l);
  }
}

}  // namespace

static const bool llmsim_shape_build_links = ShapeRegistry::add("links", build_links, /*link_required=*/false);

}  // namespace topo_detail
}  // namespace llmsim
