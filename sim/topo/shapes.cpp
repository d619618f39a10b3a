// Fabric shapes: each builder adds the switches and links of one regular layout over an
// ordered list of member devices and records the layout in a FabricInstance so routing
// can compute paths instead of searching (docs/topologies.md "Shapes").
#include <algorithm>
#include <cmath>
#include <set>

#include "sim/topo/build.h"

namespace llmsim {
namespace topo_detail {
namespace {

// A positive integer field with an upper bound (an int cast of 1e12 would wrap).
long long bounded(Params& f, const std::string& key, long long max) {
  long long v = f.positive(key);
  if (v > max) f.fail(key, "must be at most " + std::to_string(max) + ", got " + std::to_string(v));
  return v;
}

struct Ctx {
  Topology& t;
  FabricInfo& fab;
  int fab_id;
  FabricInstance& inst;
  const std::string& prefix;
  Params& f;
};

int add_switch(Ctx& c, const std::string& local_name) {
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

void link(Ctx& c, int a, int b, double bw_scale = 1.0, int dim = -1, const LinkParams* params = nullptr) {
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

// One switch (or `planes` parallel switches) per `group` consecutive members.
void build_switch(Ctx& c) {
  c.fab.planes = static_cast<int>(bounded(c.f, "planes", 4096));
  long long n = static_cast<long long>(c.inst.members.size());
  long long group = c.f.positive("group", n);
  if (n % group != 0) c.f.fail("group", std::to_string(n) + " devices do not divide into groups of " + std::to_string(group));
  int s = 0;
  for (long long g0 = 0; g0 < n; g0 += group) {
    for (int p = 0; p < c.fab.planes; ++p) {
      int sw = add_switch(c, "sw" + std::to_string(s++));
      for (long long i = g0; i < g0 + group; ++i) link(c, c.inst.members[static_cast<size_t>(i)], sw);
    }
  }
  c.fab.dims = {static_cast<int>(group)};
}

void build_ring(Ctx& c) {
  size_t n = c.inst.members.size();
  if (n == 2) link(c, c.inst.members[0], c.inst.members[1], 1.0, 0);
  if (n > 2)
    for (size_t i = 0; i < n; ++i) link(c, c.inst.members[i], c.inst.members[(i + 1) % n], 1.0, 0);
}

void build_fully_connected(Ctx& c) {
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

// Torus (wraparound) or mesh. Member i sits at coordinates x0 + d0*(x1 + d1*x2).
void build_grid(Ctx& c, bool wrap) {
  YAML::Node dn = c.f.get("dims");
  if (!dn.IsSequence() || dn.size() < 1 || dn.size() > 3)
    c.f.fail("dims", "expected a list of 1 to 3 positive integers, e.g. [4, 4, 4]");
  long long prod = 1;
  std::vector<int> dims;
  for (auto d : dn) {
    std::int64_t v = as_int(d, c.f.file(), "dims");
    if (v < 1 || v > kMaxDevices) throw InputError(pos_of(d, c.f.file()), "dims: each dimension must be between 1 and " + std::to_string(kMaxDevices));
    dims.push_back(static_cast<int>(v));
    prod *= v;
  }
  if (prod != static_cast<long long>(c.inst.members.size())) {
    c.f.fail("dims", "dims multiply to " + std::to_string(prod) + " but the fabric spans " +
                         std::to_string(c.inst.members.size()) + " devices");
  }
  c.fab.dims = dims;
  // Optional blocks (TPU v4 cubes of 4x4x4): links that leave a block, wraparound included,
  // take `block_link` (e.g. kind ocs, a longer latency) on top of the fabric's link.
  std::vector<int> block;
  LinkParams block_link = c.fab.link;
  if (YAML::Node bn = c.f.opt("block")) {
    if (!bn.IsSequence() || bn.size() != dims.size()) c.f.fail("block", "expected one block size per dimension of dims");
    for (size_t k = 0; k < dims.size(); ++k) {
      std::int64_t b = as_int(bn[k], c.f.file(), "block");
      if (b < 1 || dims[k] % b != 0) throw InputError(pos_of(bn[k], c.f.file()), "block: each size must divide its dimension");
      block.push_back(static_cast<int>(b));
    }
    block_link = parse_link(c.f, "block_link", "block_link", c.fab.link);
  } else {
    c.f.opt("block_link");
    if (c.f.has("block_link")) c.f.fail("block_link", "needs `block`");
  }
  std::vector<long long> stride(dims.size(), 1);
  for (size_t k = 1; k < dims.size(); ++k) stride[k] = stride[k - 1] * dims[k - 1];
  for (size_t k = 0; k < dims.size(); ++k) {
    int d = dims[k];
    for (long long i = 0; i < prod; ++i) {
      int x = static_cast<int>((i / stride[k]) % d);
      // A dimension of 2 has one neighbour: the wrap link would duplicate the +1 link.
      bool has_next = x + 1 < d || (wrap && d > 2);
      if (!has_next) continue;
      long long j = i + ((x + 1 < d) ? stride[k] : -static_cast<long long>(x) * stride[k]);
      bool crosses = !block.empty() && (x + 1) % block[k] == 0;
      link(c, c.inst.members[static_cast<size_t>(i)], c.inst.members[static_cast<size_t>(j)], 1.0, static_cast<int>(k),
           crosses ? &block_link : nullptr);
    }
  }
}

// Folded-Clos fat tree from switches of `radix` ports (docs/topologies.md "fat-tree").
void build_fat_tree(Ctx& c) {
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

// Explicit `links:` list; endpoints are device names or switches declared in `switches:`.
void build_links(Ctx& c) {
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
  fab.parallel = static_cast<int>(bounded(f, "parallel", 65536));
  LinkParams base;
  base.kind = fab.type;
  if (fab.shape == "links") {
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
  Ctx c{t, t.fabrics.back(), fab_id, inst, prefix, f};
  if (fab.shape == "switch") build_switch(c);
  else if (fab.shape == "ring") build_ring(c);
  else if (fab.shape == "fully-connected") build_fully_connected(c);
  else if (fab.shape == "torus") build_grid(c, true);
  else if (fab.shape == "mesh") build_grid(c, false);
  else if (fab.shape == "fat-tree") build_fat_tree(c);
  else build_links(c);
  f.finish();
  if (fab.shape == "torus" && members.size() == static_cast<size_t>(t.num_devices()) && t.torus_dims_.empty()) t.torus_dims_ = t.fabrics.back().dims;
  t.instances.push_back(std::move(inst));
}

}  // namespace topo_detail
}  // namespace llmsim
