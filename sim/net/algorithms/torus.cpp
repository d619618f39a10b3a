// Multi-dimensional torus (TPU ICI, CHIPS.md hints): all-reduce = reduce-scatter along
// dimension 0, then 1, 2 (each on a shard k times smaller), then all-gather in reverse
// order. In each dimension every line of k chips is a ring used in both directions, each
// direction carrying half the shard, so all 2 x dims links of every chip stay busy.
#include "sim/net/collective.h"

namespace llmsim {
namespace {

struct DimRings {
  PatternPtr pattern;
  int k = 1;
  int dirs = 0;  // links per chip in this dimension: 2 (both ring directions) or 1 (k = 2)
};

// Every link tagged with dimension d between two devices, used in both directions.
std::vector<DimRings> dim_rings(const Topology& topo, std::string* why) {
  const auto& dims = topo.torus_dims();
  std::vector<DimRings> out(dims.size());
  std::vector<std::vector<int>> per_dev(dims.size(), std::vector<int>(static_cast<size_t>(topo.num_devices()), 0));
  for (size_t d = 0; d < dims.size(); ++d) {
    out[d].pattern = make_pattern();
    out[d].k = dims[d];
  }
  for (const LinkInfo& l : topo.links) {
    if (l.dim < 0 || l.dim >= static_cast<int>(dims.size())) continue;
    if (l.a >= topo.num_devices() || l.b >= topo.num_devices()) continue;
    auto& r = out[static_cast<size_t>(l.dim)];
    add_pair(*r.pattern, l.a, l.b);
    add_pair(*r.pattern, l.b, l.a);
    ++per_dev[static_cast<size_t>(l.dim)][static_cast<size_t>(l.a)];
    ++per_dev[static_cast<size_t>(l.dim)][static_cast<size_t>(l.b)];
  }
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] < 2) continue;
    int c = per_dev[d][0];
    for (int x : per_dev[d])
      if (x != c || c < 1 || c > 2) {
        if (why) *why = "dimension " + std::to_string(d) + " is not a ring at every chip (links not tagged by dimension)";
        return {};
      }
    out[d].dirs = c;
  }
  return out;
}

class Torus : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology& topo, const CollectiveRequest& req) const override {
    if (topo.torus_dims().empty()) return "the topology is not a torus";
    if (req.kind != CollectiveKind::AllReduce && req.kind != CollectiveKind::AllGather &&
        req.kind != CollectiveKind::ReduceScatter)
      return "torus runs all-reduce, all-gather and reduce-scatter";
    if (static_cast<int>(req.group.size()) != topo.num_devices())
      return "torus rings need the whole torus as the group";
    std::string why;
    if (dim_rings(topo, &why).empty()) return why;
    return "";
  }

  Plan plan(const Topology& topo, const CollectiveRequest& req) const override {
    Plan plan;
    auto rings = dim_rings(topo, nullptr);
    double n = static_cast<double>(req.group.size());
    std::vector<double> entering(rings.size(), 0);
    double cur = req.bytes;
    if (req.kind != CollectiveKind::AllGather) {
      for (size_t d = 0; d < rings.size(); ++d) {
        const auto& r = rings[d];
        if (r.k < 2) continue;
        entering[d] = cur;
        plan.stages.push_back({r.pattern, cur / r.k / r.dirs, r.k - 1, "dim" + std::to_string(d)});
        cur /= r.k;
      }
    } else {
      cur = req.bytes / n;
    }
    if (req.kind != CollectiveKind::ReduceScatter) {
      for (size_t i = rings.size(); i-- > 0;) {
        const auto& r = rings[i];
        if (r.k < 2) continue;
        plan.stages.push_back({r.pattern, cur / r.dirs, r.k - 1, "dim" + std::to_string(i)});
        cur *= r.k;
        if (req.kind == CollectiveKind::AllGather) entering[i] = cur;
      }
    }
    for (size_t d = 0; d < rings.size(); ++d)
      if (rings[d].k >= 2) plan.dims.push_back({"dim" + std::to_string(d), entering[d], rings[d].k});
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(Torus, "torus");
}  // namespace llmsim
