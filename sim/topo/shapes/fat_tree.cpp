// Shape `fat-tree`: a folded Clos of radix-k switches, two or three levels.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "sim/topo/shapes/shape.h"

namespace llmsim {
namespace topo_detail {
namespace {

// Folded-Clos fat tree from switches of `radix` ports (docs/topologies.md "fat-tree").
void build_fat_tree(ShapeContext& c) {
  FabricInfo& fab = c.fab;
  fab.radix = static_cast<int>(bounded(c.f, "radix", 65536));
  if (fab.radix < 2 || fab.radix % 2) c.f.fail("radix", "must be an even number >= 2");
  fab.oversubscription = c.f.num("oversubscription");
  if (!(fab.oversubscription >= 1.0) || fab.oversubscription > 64) c.f.fail("oversubscription", "must be between 1 and 64 (down:up ratio, e.g. 3 for 3:1)");
  fab.rails = c.f.has("rails") ? static_cast<int>(bounded(c.f, "rails", kMaxDevices)) : 0;
  c.f.opt("rails");
  const int k = fab.radix;
  const double r = fab.oversubscription;
  int down = std::max(1, static_cast<int>(std::lround(k * r / (r + 1))));
  int up = std::max(1, k - down);

  // Leaf assignment: rail-optimised trees give every rail its own leaves (SuperPOD:
  // NIC i of each node on leaf i of its scalable unit); leaf ordinal = unit * rails + rail.
  const auto& m = c.inst.members;
  std::vector<int> leaf_ord(m.size());
  int leaves = 0;
  if (fab.rails > 0) {
    std::vector<int> count(static_cast<size_t>(fab.rails), 0);
    for (size_t i = 0; i < m.size(); ++i) {
      int rail = c.t.vertices[static_cast<size_t>(m[i])].local_rank % fab.rails;
      int unit = count[static_cast<size_t>(rail)]++ / down;
      leaf_ord[i] = unit * fab.rails + rail;
      leaves = std::max(leaves, leaf_ord[i] + 1);
    }
  } else {
    for (size_t i = 0; i < m.size(); ++i) leaf_ord[i] = static_cast<int>(i) / down;
    leaves = m.empty() ? 0 : leaf_ord.back() + 1;
  }
  for (int l = 0; l < leaves; ++l) c.inst.leaf_vertex.push_back(add_switch(c, "leaf" + std::to_string(l)));
  c.inst.member_leaf.resize(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    c.inst.member_leaf[i] = c.inst.leaf_vertex[static_cast<size_t>(leaf_ord[i])];
    link(c, m[i], c.inst.member_leaf[i]);
  }
  c.inst.leaf_pod.assign(static_cast<size_t>(leaves), 0);
  if (leaves <= 1) return;
  const double bw_up = static_cast<double>(up);  // uplink ports per leaf, in link units
  if (leaves <= k) {
    // Two levels: every spine reaches every leaf; parallel cables are aggregated.
    int spines = static_cast<int>(std::max(1LL, (static_cast<long long>(leaves) * up + k - 1) / k));
    c.inst.pod_spines.assign(1, {});
    for (int s = 0; s < spines; ++s) c.inst.pod_spines[0].push_back(add_switch(c, "spine" + std::to_string(s)));
    for (int l = 0; l < leaves; ++l)
      for (int s : c.inst.pod_spines[0]) link(c, c.inst.leaf_vertex[static_cast<size_t>(l)], s, bw_up / spines);
    return;
  }
  // Three levels: pods of k/2 leaves with their own spines; spine j of every pod joins
  // core group j.
  const int half = k / 2;
  int pods = (leaves + half - 1) / half;
  if (pods > k) {
    c.f.fail("radix", std::to_string(m.size()) + " endpoints need more than three levels of radix-" + std::to_string(k) +
                          " switches (at most " + std::to_string(static_cast<long long>(k) * k * k / 4) + "); raise radix");
  }
  int spines_per_pod = std::max(1, up);  // one uplink of each leaf to each spine of its pod
  long long total_up = static_cast<long long>(pods) * spines_per_pod * half;
  int per_group = static_cast<int>(std::max(1LL, (total_up + k - 1) / k / spines_per_pod));
  for (int l = 0; l < leaves; ++l) c.inst.leaf_pod[static_cast<size_t>(l)] = l / half;
  c.inst.pod_spines.assign(static_cast<size_t>(pods), {});
  int sidx = 0;
  for (int p = 0; p < pods; ++p)
    for (int j = 0; j < spines_per_pod; ++j) c.inst.pod_spines[static_cast<size_t>(p)].push_back(add_switch(c, "spine" + std::to_string(sidx++)));
  c.inst.core_groups.assign(static_cast<size_t>(spines_per_pod), {});
  int cidx = 0;
  for (int j = 0; j < spines_per_pod; ++j)
    for (int g = 0; g < per_group; ++g) c.inst.core_groups[static_cast<size_t>(j)].push_back(add_switch(c, "core" + std::to_string(cidx++)));
  for (int l = 0; l < leaves; ++l)
    for (int s : c.inst.pod_spines[static_cast<size_t>(l / half)]) link(c, c.inst.leaf_vertex[static_cast<size_t>(l)], s, bw_up / spines_per_pod);
  for (int p = 0; p < pods; ++p)
    for (int j = 0; j < spines_per_pod; ++j)
      for (int core : c.inst.core_groups[static_cast<size_t>(j)])
        link(c, c.inst.pod_spines[static_cast<size_t>(p)][static_cast<size_t>(j)], core, static_cast<double>(half) / per_group);
}

}  // namespace

LLMSIM_REGISTER_SHAPE(build_fat_tree, "fat-tree");

}  // namespace topo_detail
}  // namespace llmsim
