// finalize() (graph + connectivity) and the report figures of `llmsim check`: diameter,
// bisection and injection bandwidth. Regular shapes use closed forms so a 16k-device
// system reports in milliseconds; the formulas are in docs/topologies.md "Metrics".
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>

#include <algorithm>
#include <map>

#include "sim/topo/topology.h"

namespace llmsim {
namespace {

// Hop distances from `src` to every vertex (-1 unreachable): Boost.Graph's breadth-first
// search recording each tree edge's distance.
std::vector<int> hop_distances(const TopoGraph& g, int src) {
  std::vector<int> dist(boost::num_vertices(g), -1);
  dist[static_cast<size_t>(src)] = 0;
  auto record = boost::make_bfs_visitor(boost::record_distances(dist.data(), boost::on_tree_edge()));
  boost::breadth_first_search(g, static_cast<TopoGraph::vertex_descriptor>(src), boost::visitor(record));
  return dist;
}

std::string range_text(const Topology& t, const std::vector<int>& devs) {
  std::string s = "{" + t.vertices[static_cast<size_t>(devs.front())].name;
  if (devs.size() > 1) s += (devs.size() > 2 ? ", ..., " : ", ") + t.vertices[static_cast<size_t>(devs.back())].name;
  return s + "} (" + std::to_string(devs.size()) + " device" + (devs.size() > 1 ? "s" : "") + ")";
}

// Beyond this size the (recursive) max flow is replaced by a direct cut count.
constexpr int kMaxFlowVertices = 4096;

// The bandwidth of links cut by the device-order halving, switches placed on the side most
// of their device neighbours are on: an upper bound on the true minimum cut.
double half_split_cut_estimate(const Topology& t) {
  const int n = t.num_devices();
  std::vector<int> side(t.vertices.size(), 0);
  for (int d = 0; d < n; ++d) side[static_cast<size_t>(d)] = d < n / 2 ? 0 : 1;
  for (size_t v = static_cast<size_t>(n); v < t.vertices.size(); ++v) {
    int votes[2] = {0, 0};
    for (const auto& [u, l] : t.neighbours(static_cast<int>(v))) {
      (void)l;
      if (u < n) ++votes[side[static_cast<size_t>(u)]];
    }
    side[v] = votes[1] > votes[0] ? 1 : 0;
  }
  double cut = 0;
  for (const auto& l : t.links)
    if (side[static_cast<size_t>(l.a)] != side[static_cast<size_t>(l.b)]) cut += l.params.bandwidth;
  return cut;
}

// Max flow between the first and second half of the devices (Boost.Graph push-relabel on
// a directed copy: each link is an arc pair of its bandwidth, reverse of each other, and a
// source / sink joins each half): the bisection of irregular graphs for that split (a cut
// through the device order).
double half_split_max_flow(const Topology& t) {
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, double,
                      boost::property<boost::edge_residual_capacity_t, double,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  const int nv = static_cast<int>(t.vertices.size());
  const int n = t.num_devices();
  if (nv > kMaxFlowVertices) return half_split_cut_estimate(t);
  const int S = nv, T = nv + 1;
  FlowGraph g(static_cast<size_t>(nv + 2));
  auto cap = boost::get(boost::edge_capacity, g);
  auto rev = boost::get(boost::edge_reverse, g);
  auto add = [&](int a, int b, double c_ab, double c_ba) {
    auto ab = boost::add_edge(static_cast<size_t>(a), static_cast<size_t>(b), g).first;
    auto ba = boost::add_edge(static_cast<size_t>(b), static_cast<size_t>(a), g).first;
    cap[ab] = c_ab;
    cap[ba] = c_ba;
    rev[ab] = ba;
    rev[ba] = ab;
  };
  // The source and sink arcs must never bind: more than every link together carries.
  double unbounded = 1;
  for (const auto& l : t.links) unbounded += 2 * l.params.bandwidth;
  for (const auto& l : t.links) add(l.a, l.b, l.params.bandwidth, l.params.bandwidth);
  for (int d = 0; d < n; ++d) (d < n / 2 ? add(S, d, unbounded, 0) : add(d, T, unbounded, 0));
  return boost::push_relabel_max_flow(g, static_cast<size_t>(S), static_cast<size_t>(T));
}

}  // namespace

void Topology::finalize() {
  graph = TopoGraph(vertices.size());
  for (size_t l = 0; l < links.size(); ++l) boost::add_edge(static_cast<TopoGraph::vertex_descriptor>(links[l].a),
                                                            static_cast<TopoGraph::vertex_descriptor>(links[l].b),
                                                            static_cast<int>(l), graph);
  dev_inst_.assign(static_cast<size_t>(num_devices()), {});
  for (size_t i = 0; i < instances.size(); ++i)
    for (size_t j = 0; j < instances[i].members.size(); ++j)
      dev_inst_[static_cast<size_t>(instances[i].members[j])].push_back({static_cast<int>(i), static_cast<int>(j)});
  if (nodes <= 1) devices_per_node = num_devices();
  // A statically disconnected file is bad input (exit 2); partitions appear at run time
  // only through faults (exit 3).
  const int n = num_devices();
  if (n == 0) throw InputError(pos, "topology has no devices");
  // Boost.Graph's connected components; partitions listed in order of their first device.
  std::vector<int> comp(vertices.size(), -1);
  boost::connected_components(graph, comp.data());
  std::map<int, size_t> part_of_component;
  std::vector<std::vector<int>> parts;
  for (int d = 0; d < n; ++d) {
    auto [it, fresh] = part_of_component.emplace(comp[static_cast<size_t>(d)], parts.size());
    if (fresh) parts.emplace_back();
    parts[it->second].push_back(d);
  }
  if (parts.size() > 1) {
    std::string msg = "network is disconnected: " + std::to_string(n) + " devices fall into " +
                      std::to_string(parts.size()) + " partitions: ";
    for (size_t p = 0; p < parts.size() && p < 3; ++p) msg += (p ? " | " : "") + range_text(*this, parts[p]);
    if (parts.size() > 3) msg += " | ...";
    throw InputError(pos, msg, "add a fabric that joins the partitions, or check the `links:` endpoints");
  }
}

int Topology::diameter_hops() const {
  if (diameter_ >= 0) return diameter_;
  const int n = num_devices();
  // One regular fabric over every device: closed form.
  if (instances.size() == 1 && static_cast<int>(instances[0].members.size()) == n && instances[0].structured) {
    const FabricInfo& f = fabrics[static_cast<size_t>(instances[0].fabric)];
    int d = -1;
    if (n == 1) d = 0;
    else if (f.shape == "ring") d = n / 2;
    else if (f.shape == "fully-connected") d = 1;
    else if (f.shape == "switch" && f.dims.size() == 1 && f.dims[0] == n) d = 2;
    else if (f.shape == "torus") { d = 0; for (int x : f.dims) d += x / 2; }
    else if (f.shape == "mesh") { d = 0; for (int x : f.dims) d += x - 1; }
    else if (f.shape == "fat-tree") d = instances[0].leaf_vertex.size() <= 1 ? 2 : instances[0].core_groups.empty() ? 4 : 6;
    if (d >= 0) return diameter_ = d;
  }
  // Otherwise BFS eccentricities: from every device up to 1,024; beyond, from every device of
  // the first and last node (hierarchies: nodes are alike) or 64 evenly spread devices.
  std::vector<int> sources;
  if (n <= 1024) for (int d = 0; d < n; ++d) sources.push_back(d);
  else if (nodes > 1) {
    for (int i = 0; i < devices_per_node; ++i) sources.push_back(i);
    for (int i = 0; i < devices_per_node; ++i) sources.push_back((nodes - 1) * devices_per_node + i);
  } else {
    for (int k = 0; k < 64; ++k) sources.push_back(static_cast<int>(static_cast<long long>(k) * n / 64));
  }
  int best = 0;
  for (int s : sources) {
    std::vector<int> dist = hop_distances(graph, s);
    for (int d = 0; d < n; ++d) best = std::max(best, dist[static_cast<size_t>(d)]);
  }
  return diameter_ = best;
}

BytesPerSecond Topology::bisection_bandwidth() const {
  const int n = num_devices();
  if (n < 2) return 0;
  double sum = 0;
  // An odd node count puts the cut inside a node, whose own links then cross it too.
  bool all_regular = nodes <= 1 || nodes % 2 == 0;
  for (const FabricInstance& in : instances) {
    if (!all_regular) break;
    const FabricInfo& f = fabrics[static_cast<size_t>(in.fabric)];
    // The cut halves the node list, so only fabrics spanning every device cross it.
    if (static_cast<int>(in.members.size()) != n) continue;
    const double bw = f.link.bandwidth * f.parallel;
    const long long m = static_cast<long long>(in.members.size());
    if (!in.structured) { all_regular = false; break; }
    if (f.shape == "switch") sum += (f.dims[0] == n ? static_cast<double>(m / 2) * bw * f.planes : 0);
    else if (f.shape == "ring") sum += m > 2 ? 2 * bw : bw;
    else if (f.shape == "fully-connected") sum += static_cast<double>(m / 2) * static_cast<double>(m - m / 2) * bw;
    else if (f.shape == "torus" || f.shape == "mesh") {
      int dmax = *std::max_element(f.dims.begin(), f.dims.end());
      if (dmax > 1) sum += static_cast<double>(m / dmax) * bw * (f.shape == "torus" && dmax > 2 ? 2 : 1);
    } else if (f.shape == "fat-tree") {
      // Half the endpoints' bandwidth, unless a tier above the leaves carries less
      // (oversubscription): half of that tier's up capacity.
      double b = static_cast<double>(m / 2) * bw;
      if (in.leaf_vertex.size() > 1) {
        double up_leaf = 0, up_spine = 0;
        for (const auto& l : links) {
          if (l.fabric_id != in.fabric) continue;
          const auto& va = vertices[static_cast<size_t>(l.a)];
          const auto& vb = vertices[static_cast<size_t>(l.b)];
          if (va.kind == VertexInfo::Kind::Device || vb.kind == VertexInfo::Kind::Device) continue;
          bool core = vb.name.find(".core") != std::string::npos;
          (core ? up_spine : up_leaf) += l.params.bandwidth;
        }
        b = std::min(b, up_leaf / 2);
        if (up_spine > 0) b = std::min(b, up_spine / 2);
      }
      sum += b;
    }
  }
  if (all_regular && sum > 0) return sum;
  return half_split_max_flow(*this);
}

BytesPerSecond Topology::injection_bandwidth(int device) const {
  double sum = 0;
  for (const auto& [v, l] : neighbours(device)) {
    (void)v;
    sum += links[static_cast<size_t>(l)].params.bandwidth;
  }
  return sum;
}

}  // namespace llmsim
