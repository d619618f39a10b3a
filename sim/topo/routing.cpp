// Routes (docs/topologies.md "Routing"): regular shapes compute their path (dimension
// order on tori, shorter way round on rings, ECMP-by-hash up/down in fat trees, rail-
// aligned PXN across nodes); anything else is Boost.Graph's Dijkstra by latency with
// deterministic tie-breaks (fewer hops, then lower predecessor vertex id).
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/property_map/function_property_map.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <limits>

#include "sim/topo/topology.h"

namespace llmsim {

int Topology::add_vertex(VertexInfo v) {
  int id = static_cast<int>(vertices.size());
  by_name_.emplace(v.name, id);
  vertices.push_back(std::move(v));
  return id;
}

int Topology::add_link(LinkInfo l) {
  int id = static_cast<int>(links.size());
  links.push_back(std::move(l));
  return id;
}

int Topology::vertex_by_name(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

int Topology::device_by_name(const std::string& name) const {
  int v = vertex_by_name(name);
  if (v >= 0) return v < num_devices() ? v : -1;
  // "gpu8": the 8th device in global order, whatever the hierarchy calls it.
  size_t d = name.size();
  while (d > 0 && std::isdigit(static_cast<unsigned char>(name[d - 1]))) --d;
  if (d == 0 || d == name.size() || name.size() - d > 9 || name.find('.') != std::string::npos) return -1;
  for (size_t i = 0; i < d; ++i)
    if (!std::isalpha(static_cast<unsigned char>(name[i])) && name[i] != '-' && name[i] != '_') return -1;
  long idx = std::stol(name.substr(d));
  return idx < num_devices() ? static_cast<int>(idx) : -1;
}

int Topology::link_between(int u, int v, int fabric_id) const {
  // Scan the smaller out-edge list (a switch may have thousands); both list the links
  // joining u and v in link order. The target is read before the link id, which costs a
  // pointer chase to the edge's property.
  auto vu = static_cast<TopoGraph::vertex_descriptor>(u), vv = static_cast<TopoGraph::vertex_descriptor>(v);
  if (boost::out_degree(vu, graph) > boost::out_degree(vv, graph)) std::swap(vu, vv);
  int best = -1;
  for (auto [e, end] = boost::out_edges(vu, graph); e != end; ++e) {
    if (boost::target(*e, graph) != vv) continue;
    const int l = boost::get(boost::edge_index, graph, *e);
    if (fabric_id >= 0 && links[static_cast<size_t>(l)].fabric_id == fabric_id) return l;
    if (best < 0) best = l;
    else {
      const auto& a = links[static_cast<size_t>(l)].params;
      const auto& b = links[static_cast<size_t>(best)].params;
      if (a.latency < b.latency || (a.latency == b.latency && a.bandwidth > b.bandwidth)) best = l;
    }
  }
  return best;
}

Route Topology::make_route(const std::vector<int>& path, int fabric_id) const {
  Route r;
  r.bottleneck = 0;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    int l = link_between(path[i], path[i + 1], fabric_id);
    if (l < 0) throw std::logic_error("route: no link between " + vertices[static_cast<size_t>(path[i])].name + " and " +
                                      vertices[static_cast<size_t>(path[i + 1])].name);
    const LinkInfo& li = links[static_cast<size_t>(l)];
    r.hops.push_back(l * 2 + (li.a == path[i] ? 0 : 1));
    r.latency += li.params.latency;
    if (i > 0) r.latency += vertices[static_cast<size_t>(path[i])].switch_latency;
    r.bottleneck = i == 0 ? li.params.bandwidth : std::min(r.bottleneck, li.params.bandwidth);
  }
  return r;
}

std::vector<int> Topology::instance_path(const FabricInstance& inst, int a, int b) const {
  const FabricInfo& fab = fabrics[static_cast<size_t>(inst.fabric)];
  const auto& m = inst.members;
  const int n = static_cast<int>(m.size());
  std::vector<int> p{m[static_cast<size_t>(a)]};
  if (fab.shape == "switch") {
    int group = fab.dims.empty() ? n : fab.dims[0];
    if (a / group != b / group) return {};
    int sw = inst.switches[static_cast<size_t>((a / group) * fab.planes + (m[a] + m[b]) % fab.planes)];
    return {m[static_cast<size_t>(a)], sw, m[static_cast<size_t>(b)]};
  }
  if (fab.shape == "fully-connected") return {m[static_cast<size_t>(a)], m[static_cast<size_t>(b)]};
  if (fab.shape == "ring") {
    int fwd = ((b - a) % n + n) % n;
    int step = fwd <= n - fwd ? 1 : -1;  // ties go the + way
    for (int x = a; x != b;) {
      x = ((x + step) % n + n) % n;
      p.push_back(m[static_cast<size_t>(x)]);
    }
    return p;
  }
  if (fab.shape == "torus" || fab.shape == "mesh") {
    bool wrap = fab.shape == "torus";
    int cur = a, stride = 1;
    for (int d : fab.dims) {
      int x = (cur / stride) % d, y = (b / stride) % d;
      int fwd = ((y - x) % d + d) % d;
      int step = wrap ? (fwd <= d - fwd ? 1 : -1) : (y >= x ? 1 : -1);
      while (x != y) {
        int nx = ((x + step) % d + d) % d;
        cur += (nx - x) * stride;
        x = nx;
        p.push_back(m[static_cast<size_t>(cur)]);
      }
      stride *= d;
    }
    return p;
  }
  if (fab.shape == "fat-tree") {
    int la = inst.member_leaf[static_cast<size_t>(a)], lb = inst.member_leaf[static_cast<size_t>(b)];
    // Equal-cost paths are spread by a symmetric hash of the endpoints (ECMP); the lowest-id
    // tie-break would send every flow through spine 0.
    int h = m[static_cast<size_t>(a)] + m[static_cast<size_t>(b)];
    if (la == lb) return {m[static_cast<size_t>(a)], la, m[static_cast<size_t>(b)]};
    int pa = inst.leaf_pod[static_cast<size_t>(la - inst.leaf_vertex[0])];
    int pb = inst.leaf_pod[static_cast<size_t>(lb - inst.leaf_vertex[0])];
    const auto& sa = inst.pod_spines[static_cast<size_t>(pa)];
    int j = h % static_cast<int>(sa.size());
    if (pa == pb) return {m[static_cast<size_t>(a)], la, sa[static_cast<size_t>(j)], lb, m[static_cast<size_t>(b)]};
    const auto& cores = inst.core_groups[static_cast<size_t>(j)];
    int core = cores[static_cast<size_t>((h / static_cast<int>(sa.size())) % static_cast<int>(cores.size()))];
    int sb = inst.pod_spines[static_cast<size_t>(pb)][static_cast<size_t>(j)];
    return {m[static_cast<size_t>(a)], la, sa[static_cast<size_t>(j)], core, sb, lb, m[static_cast<size_t>(b)]};
  }
  return {};
}

bool Topology::structured_route(int src, int dst, std::vector<int>& path, int& fabric_id, bool compose) const {
  const auto& si = dev_inst_[static_cast<size_t>(src)];
  const auto& di = dev_inst_[static_cast<size_t>(dst)];
  const VertexInfo& vs = vertices[static_cast<size_t>(src)];
  const VertexInfo& vd = vertices[static_cast<size_t>(dst)];
  bool found = false;
  Route best_r;
  for (const auto& [ia, ma] : si) {
    const FabricInstance& inst = instances[static_cast<size_t>(ia)];
    if (!inst.structured) continue;
    const FabricInfo& fab = fabrics[static_cast<size_t>(inst.fabric)];
    // Rail-optimised trees: cross-rail traffic between nodes goes rail-aligned (below).
    if (fab.rails > 0 && vs.node != vd.node && vs.local_rank % fab.rails != vd.local_rank % fab.rails) continue;
    for (const auto& [ib, mb] : di) {
      if (ib != ia) continue;
      std::vector<int> p = instance_path(inst, ma, mb);
      if (p.empty()) continue;
      Route r = make_route(p, inst.fabric);
      if (!found || r.latency < best_r.latency || (r.latency == best_r.latency && r.hops.size() < best_r.hops.size())) {
        found = true;
        best_r = r;
        path = std::move(p);
        fabric_id = inst.fabric;
      }
    }
  }
  if (found || !compose || nodes <= 1 || vs.node == vd.node || devices_per_node <= 0) return found;
  // Across nodes: move inside the source node to the device with the destination's local
  // rank (on the destination's rail), then cross on that rail (NCCL's PXN).
  int g = vs.node * devices_per_node + vd.local_rank;
  std::vector<int> first, second;
  int f1 = -1, f2 = -1;
  if (g == src || !structured_route(src, g, first, f1, false)) return false;
  if (!structured_route(g, dst, second, f2, false)) return false;
  path = first;
  path.insert(path.end(), second.begin() + 1, second.end());
  fabric_id = -1;
  return true;
}

namespace {

// Cost of a partial path: latency in picoseconds, ties to fewer hops. Exact integers, so
// equal-cost paths compare equal and the tie rule below decides.
struct PathCost {
  SimTime latency = 0;
  int hops = 0;
  bool operator<(const PathCost& o) const { return latency != o.latency ? latency < o.latency : hops < o.hops; }
  bool operator==(const PathCost& o) const { return latency == o.latency && hops == o.hops; }
};
constexpr PathCost kUnreached{std::numeric_limits<SimTime>::max(), std::numeric_limits<int>::max()};

// One more link: its weight and one hop.
struct ExtendPath {
  PathCost operator()(const PathCost& c, SimTime weight) const {
    return c == kUnreached ? kUnreached : PathCost{c.latency + weight, c.hops + 1};
  }
};

// Weight of an edge leaving vertex u: the link's latency plus u's forwarding latency, which
// counts when a path passes through u (so not at the source). Devices do not forward for
// free either, but only switches carry a configured forwarding latency.
struct HopWeight {
  const Topology* topo = nullptr;
  int src = -1;
  SimTime operator()(const TopoGraph::edge_descriptor& e) const {
    const auto u = boost::source(e, topo->graph);
    const SimTime through = static_cast<int>(u) == src ? 0 : to_simtime(topo->vertices[u].switch_latency);
    return through + to_simtime(topo->links[static_cast<size_t>(boost::get(boost::edge_index, topo->graph, e))].params.latency);
  }
};

struct TargetReached {};

// Stops the search once the target is settled, and among equal-cost predecessors keeps the
// lowest vertex id: Boost keeps the first to relax, which depends on its queue's order.
// Every equal-cost predecessor of v has a strictly lower cost (one hop less), so all of them
// are examined before v is settled and the rule sees each one.
class TieBreakVisitor : public boost::default_dijkstra_visitor {
 public:
  using Vertex = TopoGraph::vertex_descriptor;
  TieBreakVisitor(Vertex target, HopWeight weight, const PathCost* cost, Vertex* pred)
      : target_(target), weight_(weight), cost_(cost), pred_(pred) {}
  void examine_vertex(Vertex u, const TopoGraph&) const {
    if (u == target_) throw TargetReached{};
  }
  void edge_not_relaxed(const TopoGraph::edge_descriptor& e, const TopoGraph& g) const {
    const Vertex u = boost::source(e, g), v = boost::target(e, g);
    if (u < pred_[v] && ExtendPath{}(cost_[u], weight_(e)) == cost_[v]) pred_[v] = u;
  }

 private:
  Vertex target_;
  HopWeight weight_;
  const PathCost* cost_;
  Vertex* pred_;
};

}  // namespace

std::vector<int> Topology::dijkstra_path(int src, int dst) const {
  using Vertex = TopoGraph::vertex_descriptor;
  const size_t nv = boost::num_vertices(graph);
  std::vector<PathCost> cost(nv);
  std::vector<Vertex> pred(nv);
  const HopWeight weight{this, src};
  try {
    boost::dijkstra_shortest_paths(
        graph, static_cast<Vertex>(src),
        boost::predecessor_map(pred.data())
            .distance_map(cost.data())
            .weight_map(boost::make_function_property_map<TopoGraph::edge_descriptor, SimTime>(weight))
            .distance_compare(std::less<PathCost>())
            .distance_combine(ExtendPath{})
            .distance_inf(kUnreached)
            .distance_zero(PathCost{})
            .visitor(TieBreakVisitor(static_cast<Vertex>(dst), weight, cost.data(), pred.data())));
  } catch (const TargetReached&) {
  }
  if (cost[static_cast<size_t>(dst)] == kUnreached) return {};
  std::vector<int> p;
  for (Vertex v = static_cast<Vertex>(dst); v != static_cast<Vertex>(src); v = pred[v]) p.push_back(static_cast<int>(v));
  p.push_back(src);
  std::reverse(p.begin(), p.end());
  return p;
}

Route Topology::compute_route(int src, int dst) const {
  if (src == dst) return Route{};
  std::vector<int> path;
  int fabric_id = -1;
  if (src < num_devices() && dst < num_devices() && structured_route(src, dst, path, fabric_id)) {
    return make_route(path, fabric_id);
  }
  path = dijkstra_path(src, dst);
  if (path.empty()) {
    throw InfeasibleError("no route from " + vertices[static_cast<size_t>(src)].name + " to " +
                          vertices[static_cast<size_t>(dst)].name + " (network partitioned)");
  }
  return make_route(path);
}

const Route& Topology::route(int src, int dst) const {
  if (src < 0 || dst < 0 || static_cast<size_t>(src) >= vertices.size() || static_cast<size_t>(dst) >= vertices.size())
    throw std::out_of_range("Topology::route: vertex out of range");
  auto key = std::make_pair(src, dst);
  auto it = route_cache_.find(key);
  if (it != route_cache_.end()) return it->second;
  auto old = route_cache_old_.find(key);
  Route r = old != route_cache_old_.end() ? old->second : compute_route(src, dst);
  if (route_cache_.size() >= kRouteCacheGeneration) {
    route_cache_old_ = std::move(route_cache_);
    route_cache_.clear();
  }
  return route_cache_.emplace(key, std::move(r)).first->second;
}

}  // namespace llmsim
