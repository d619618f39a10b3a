// Shape `fully-connected`: a link per device pair, or `between: nodes` links per node pair.
#include <string>
#include <vector>

#include "sim/topo/shapes/shape.h"

namespace llmsim {
namespace topo_detail {
namespace {

void build_fully_connected(ShapeContext& c) {
  std::string between = c.f.choice("between");
  const auto& m = c.inst.members;
  if (between == "devices") {
    for (size_t i = 0; i < m.size(); ++i)
      for (size_t j = i + 1; j < m.size(); ++j) link(c, m[i], m[j]);
    return;
  }
  // Node pairs joined by `links_per_pair` links on the nodes' devices in round-robin
  // port order (GroqRack: 4 global ports per card, 4 links per node pair).
  long long per_pair = bounded(c.f, "links_per_pair", kMaxLinks);
  std::vector<std::vector<int>> by_node;
  for (int d : m) {
    int node = c.t.vertices[static_cast<size_t>(d)].node;
    if (by_node.size() <= static_cast<size_t>(node)) by_node.resize(static_cast<size_t>(node) + 1);
    by_node[static_cast<size_t>(node)].push_back(d);
  }
  if (by_node.size() < 2) c.f.fail("between", "'nodes' needs a topology with `nodes:` (more than one node)");
  std::vector<size_t> next(by_node.size(), 0);
  for (size_t a = 0; a < by_node.size(); ++a)
    for (size_t b = a + 1; b < by_node.size(); ++b)
      for (long long k = 0; k < per_pair; ++k) {
        int da = by_node[a][next[a]++ % by_node[a].size()];
        int db = by_node[b][next[b]++ % by_node[b].size()];
        link(c, da, db);
      }
  c.inst.structured = false;
}

}  // namespace

LLMSIM_REGISTER_SHAPE(build_fully_connected, "fully-connected");

}  // namespace topo_detail
}  // namespace llmsim
