// Multi-dimensional torus (TPU ICI, CHIPS.md hints): all-reduce = reduce-scatter along
// dimension 0, then 1, 2 (each on a shard k times smaller), then all-gather in reverse
// order. In each dimension every line of k chips is a ring used in both directions, each
// direction carrying half the shard, so all 2 x dims links of every chip stay busy.
// The group may be the whole torus or a sub-torus: every chip along some whole dimensions,
// the other coordinates fixed (a TP group on one torus line, an FSDP group on a plane, as
// XLA's device mesh lays parallelism axes on whole torus axes [JAX-MESH]); then only the
// dimensions the group spans take part, on the links between its members.
#include <set>

#include "sim/net/collective.h"

namespace llmsim {
namespace {

struct DimRings {
  PatternPtr pattern;
  int k = 1;
  int dirs = 0;  // links per chip in this dimension: 2 (both ring directions) or 1 (k = 2)
};

// The torus dimensions `group` spans: each dimension along which its members' coordinates
// differ, which they must cover whole, all other coordinates equal. Empty (and `why`
// says so) when the group is not such a sub-torus.
std::vector<int> spanned_dims(const Topology& topo, const std::vector<int>& group, std::string* why) {
  const auto& dims = topo.torus_dims();
  std::vector<int> out;
  auto coord = [&](int dev, std::size_t d) {
    int c = dev;
    for (std::size_t i = 0; i < d; ++i) c /= dims[i];
    return c % dims[d];
  };
  long long size = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    const int first = coord(group.front(), d);
    for (int dev : group) {
      if (coord(dev, d) == first) continue;
      out.push_back(static_cast<int>(d));
      size *= dims[d];
      break;
    }
  }
  const std::set<int> members(group.begin(), group.end());
  if (size != static_cast<long long>(members.size()) || members.size() != group.size()) {
    if (why) *why = "the group is not a sub-torus (every chip along whole torus dimensions, the rest fixed)";
    return {};
  }
  return out;
}

// Every link tagged with a spanned dimension between two members of the group, used in
// both directions; dimensions the group does not span stay empty (k = 1).
std::vector<DimRings> dim_rings(const Topology& topo, const std::vector<int>& group, std::string* why) {
  const auto& dims = topo.torus_dims();
  for (int d : group)
    if (d < 0 || d >= topo.num_devices()) {
      if (why) *why = "the group names a device outside the torus";
      return {};
    }
  const std::vector<int> spanned = spanned_dims(topo, group, why);
  if (spanned.empty()) return {};
  std::vector<char> member(static_cast<std::size_t>(topo.num_devices()), 0);
  for (int d : group) member[static_cast<std::size_t>(d)] = 1;
  std::vector<DimRings> out(dims.size());
  std::vector<std::vector<int>> per_dev(dims.size(), std::vector<int>(static_cast<size_t>(topo.num_devices()), 0));
  for (int d : spanned) {
    out[static_cast<size_t>(d)].pattern = make_pattern();
    out[static_cast<size_t>(d)].k = dims[static_cast<size_t>(d)];
  }
  for (const LinkInfo& l : topo.links) {
    if (l.dim < 0 || l.dim >= static_cast<int>(dims.size()) || !out[static_cast<size_t>(l.dim)].pattern) continue;
    if (l.a >= topo.num_devices() || l.b >= topo.num_devices()) continue;
    if (!member[static_cast<size_t>(l.a)] || !member[static_cast<size_t>(l.b)]) continue;
    auto& r = out[static_cast<size_t>(l.dim)];
    add_pair(*r.pattern, l.a, l.b);
    add_pair(*r.pattern, l.b, l.a);
    ++per_dev[static_cast<size_t>(l.dim)][static_cast<size_t>(l.a)];
    ++per_dev[static_cast<size_t>(l.dim)][static_cast<size_t>(l.b)];
  }
  for (int d : spanned) {
    const auto du = static_cast<size_t>(d);
    if (dims[du] < 2) continue;
    const int c = per_dev[du][static_cast<size_t>(group.front())];
    for (int dev : group) {
      const int x = per_dev[du][static_cast<size_t>(dev)];
      if (x != c || c < 1 || c > 2) {
        if (why) *why = "dimension " + std::to_string(d) + " is not a ring at every chip (links not tagged by dimension)";
        return {};
      }
    }
    out[du].dirs = c;
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
    std::string why;
    if (dim_rings(topo, req.group, &why).empty()) return why;
    return "";
  }

  Plan plan(const Topology& topo, const CollectiveRequest& req) const override {
    Plan plan;
    auto rings = dim_rings(topo, req.group, nullptr);
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
