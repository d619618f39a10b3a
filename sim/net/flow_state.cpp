// FlowNet link state that changes during a run: bandwidth (absolute or a fraction of
// nominal, per direction) and up/down. Everything derived from the state is redone when it
// changes: rates of the flows on the link (max-min over their component), fast phases
// holding the link (demoted first, while their progress is still known at the old rate),
// resolved patterns (re-resolved as copies), and routes that cross a down link (detours by
// Dijkstra over the links still up). docs/models.md "State changes".
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/property_map/property_map.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/core/error.h"
#include "sim/net/flow_net.h"

namespace llmsim {
namespace {
// Detour edge weights: latency in half picoseconds (a switch's forwarding latency is split
// over the two links through it, so a path pays it once per switch passed), scaled so that
// one unit per hop breaks ties towards fewer hops without ever outweighing latency.
constexpr std::int64_t kHopTieBreak = 1024;

// Down links listed in messages before "... (N in all)".
constexpr int kMaxNamedLinks = 16;

struct UpLinks {  // filtered_graph edge predicate: links that are up
  const TopoGraph* g = nullptr;
  const std::vector<char>* down = nullptr;
  template <class Edge>
  bool operator()(const Edge& e) const {
    return !(*down)[static_cast<size_t>(boost::get(boost::edge_index, *g, e))];
  }
};
}  // namespace

Pattern::Class FlowNet::klass(const Route& route) const {
  Pattern::Class c = path_class(topo_, route);
  // The topology's route carries nominal bandwidths; a flow drains at today's.
  BytesPerSecond bw = 0;
  for (DirLink d : route.hops) {
    BytesPerSecond b = links_[static_cast<size_t>(d)].bw;
    bw = bw <= 0 ? b : std::min(bw, b);
  }
  if (!route.hops.empty()) c.bw = bw;
  return c;
}

const Route& FlowNet::route_for(int src, int dst) const {
  const Route& r = topo_.route(src, dst);
  if (links_down_ == 0) return r;
  bool blocked = false;
  for (DirLink d : r.hops) blocked = blocked || down_[static_cast<size_t>(dirlink_link(d))];
  if (!blocked) return r;  // keep the shape's own route where it still works
  auto key = std::make_pair(src, dst);
  auto it = detours_.find(key);
  if (it == detours_.end()) it = detours_.emplace(key, detour(src, dst)).first;
  return it->second;
}

Route FlowNet::detour(int src, int dst) const {
  const TopoGraph& g = topo_.graph;
  std::vector<std::int64_t> weight(topo_.links.size());
  for (size_t l = 0; l < topo_.links.size(); ++l) {
    const LinkInfo& li = topo_.links[l];
    std::int64_t half = 2 * to_simtime(li.params.latency) + to_simtime(topo_.vertices[static_cast<size_t>(li.a)].switch_latency) +
                        to_simtime(topo_.vertices[static_cast<size_t>(li.b)].switch_latency);
    weight[l] = half * kHopTieBreak + 1;
  }
  boost::filtered_graph<TopoGraph, UpLinks> up(g, UpLinks{&g, &down_});
  const size_t nv = topo_.vertices.size();
  std::vector<TopoGraph::vertex_descriptor> pred(nv);
  std::vector<std::int64_t> dist(nv);
  auto index = boost::get(boost::vertex_index, g);
  boost::dijkstra_shortest_paths(
      up, static_cast<TopoGraph::vertex_descriptor>(src),
      boost::predecessor_map(boost::make_iterator_property_map(pred.begin(), index))
          .distance_map(boost::make_iterator_property_map(dist.begin(), index))
          .weight_map(boost::make_iterator_property_map(weight.begin(), boost::get(boost::edge_index, g)))
          .distance_inf(std::numeric_limits<std::int64_t>::max()));
  if (dist[static_cast<size_t>(dst)] == std::numeric_limits<std::int64_t>::max()) {
    throw InfeasibleError("no route from " + topo_.vertices[static_cast<size_t>(src)].name + " to " +
                          topo_.vertices[static_cast<size_t>(dst)].name + " at " +
                          format_quantity(to_seconds(q_.now()), Dim::Time) + ": links down " + down_links_text() +
                          " partition the network");
  }
  std::vector<int> path;
  for (int v = dst; v != src; v = static_cast<int>(pred[static_cast<size_t>(v)])) path.push_back(v);
  path.push_back(src);
  std::reverse(path.begin(), path.end());
  // Between two adjacent vertices, the up link the search weighed lightest.
  Route r;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    int best = -1;
    for (const auto& [n, l] : topo_.neighbours(path[i]))
      if (n == path[i + 1] && !down_[static_cast<size_t>(l)] && (best < 0 || weight[static_cast<size_t>(l)] < weight[static_cast<size_t>(best)]))
        best = l;
    const LinkInfo& li = topo_.links[static_cast<size_t>(best)];
    r.hops.push_back(best * 2 + (li.a == path[i] ? 0 : 1));
    r.latency += li.params.latency;
    if (i > 0) r.latency += topo_.vertices[static_cast<size_t>(path[i])].switch_latency;
    r.bottleneck = i == 0 ? li.params.bandwidth : std::min(r.bottleneck, li.params.bandwidth);
  }
  return r;
}

std::string FlowNet::down_links_text() const {
  std::string s;
  int n = 0;
  for (size_t l = 0; l < down_.size(); ++l) {
    if (!down_[l]) continue;
    if (++n > kMaxNamedLinks) continue;
    const LinkInfo& li = topo_.links[l];
    s += (s.empty() ? "" : ", ") + topo_.vertices[static_cast<size_t>(li.a)].name + "-" +
         topo_.vertices[static_cast<size_t>(li.b)].name;
  }
  if (n > kMaxNamedLinks) s += ", ... (" + std::to_string(n) + " in all)";
  std::string whole;
  for (int v : down_vertices_) whole += (whole.empty() ? "" : ", ") + topo_.vertices[static_cast<size_t>(v)].name;
  if (!whole.empty()) s += " (every link of " + whole + ")";
  return s;
}

const PatternPtr& FlowNet::current(const PatternPtr& p) {
  if (!p->resolved) {
    resolve(*p);
    return p;
  }
  if (p->epoch == epoch_) return p;
  auto it = redo_.find(p.get());
  if (it == redo_.end()) {
    auto fresh = std::make_shared<Pattern>();
    fresh->pairs = p->pairs;
    fresh->weight = p->weight;
    resolve(*fresh);
    // Holding the original keeps its address from being reused by another pattern.
    it = redo_.emplace(p.get(), std::make_pair(p, std::move(fresh))).first;
  }
  return it->second.second;
}

void FlowNet::invalidate_patterns() {
  ++epoch_;
  redo_.clear();
}

void FlowNet::demote_owners(DirLink d) {
  // A fast phase's end was computed at the old rate: convert it to flows while its
  // progress is still known, before the link changes.
  for (int o = owner_of(d); o >= 0; o = owner_of(d)) demote(o);
}

void FlowNet::set_dirlink_bandwidth(DirLink d, BytesPerSecond bw) {
  if (d < 0 || static_cast<size_t>(d) >= links_.size()) throw std::out_of_range("set_dirlink_bandwidth: no such link");
  if (!(bw > 0) || !std::isfinite(bw)) throw std::invalid_argument("link bandwidth must be positive (take the link down instead)");
  if (links_[static_cast<size_t>(d)].bw == bw) return;
  demote_owners(d);
  settle_capacity(d);
  links_[static_cast<size_t>(d)].bw = bw;
  invalidate_patterns();  // their timing classes carry bandwidths
  // The next recomputation (this instant) brings each flow's remaining bytes up to date
  // at its old rate and reschedules its completion at the new one.
  mark_dirty(d);
}

void FlowNet::set_link_id_up(int link, bool up) {
  // A link coming back is used by routes resolved from now on; flows already detoured
  // keep their detour.
  if (set_link_state(link, up) && !up) reroute_flows(link);
}

void FlowNet::set_vertex_up(int vertex, bool up) {
  if (vertex < 0 || static_cast<size_t>(vertex) >= topo_.vertices.size()) throw std::out_of_range("set_vertex_up: no such vertex");
  auto it = std::find(down_vertices_.begin(), down_vertices_.end(), vertex);
  if (up && it != down_vertices_.end()) down_vertices_.erase(it);
  if (!up && it == down_vertices_.end()) down_vertices_.push_back(vertex);
  std::vector<int> changed;
  for (const auto& nl : topo_.neighbours(vertex))
    if (set_link_state(nl.second, up)) changed.push_back(nl.second);
  if (!up)
    for (int l : changed) reroute_flows(l);
}

bool FlowNet::set_link_state(int link, bool up) {
  if (link < 0 || static_cast<size_t>(link) >= topo_.links.size()) throw std::out_of_range("set_link_id_up: no such link");
  if (down_.empty()) down_.assign(topo_.links.size(), 0);
  bool was_up = !down_[static_cast<size_t>(link)];
  if (was_up == up) return false;
  if (!up) {
    demote_owners(2 * link);
    demote_owners(2 * link + 1);
  }
  settle_capacity(2 * link);
  settle_capacity(2 * link + 1);
  down_[static_cast<size_t>(link)] = up ? 0 : 1;
  links_down_ += up ? -1 : 1;
  detours_.clear();
  invalidate_patterns();
  return true;
}

void FlowNet::reroute_flows(int link) {
  std::vector<int> moved;
  for (size_t id = 0; id < flows_.size(); ++id) {
    const Flow& f = flows_[id];
    if (!f.live) continue;
    for (DirLink d : f.route->hops)
      if (dirlink_link(d) == link) {
        moved.push_back(static_cast<int>(id));
        break;
      }
  }
  SimTime now = q_.now();
  for (int id : moved) {
    Route r = route_for(flows_[static_cast<size_t>(id)].src, flows_[static_cast<size_t>(id)].dst);  // may throw
    Flow& f = flows_[static_cast<size_t>(id)];
    if (f.active) {
      double left = f.remaining - f.rate * to_seconds(now - f.last);
      // Drained already: it completes this instant on its old path (event pending).
      if (left <= 0) continue;
      credit(*f.route, (f.remaining - left) * f.payload);  // what the old path carried
      f.remaining = left;
      --active_flows_;
      for (DirLink d : f.route->hops) {
        link_remove_flow(d, id);
        mark_dirty(d);
      }
      // The old path's spans end here with what it carried; the new path's begin now
      // with what is left (not the whole message, which its links never saw).
      if (rec_.on()) route_spans(f, f.route_bytes - left * f.payload);
      f.route_bytes = left * f.payload;
      f.begin = now;
    }
    f.active = false;
    f.rate = 0;
    f.last = now;
    ++f.gen;  // cancels its completion (or pending activation) on the old path
    f.own = std::make_unique<Route>(std::move(r));
    f.route = f.own.get();
    // Remaining bytes carry over; the new path's startup latency is paid again.
    start_flow(id, now + klass(*f.route).startup);
  }
}

std::vector<int> FlowNet::joining(int u, int v) const {
  const int nv = static_cast<int>(topo_.vertices.size());
  if (u < 0 || v < 0 || u >= nv || v >= nv) throw std::out_of_range("link change: vertex out of range");
  std::vector<int> ls;
  for (const auto& [n, l] : topo_.neighbours(u))
    if (n == v) ls.push_back(l);
  if (ls.empty())
    throw std::invalid_argument("no link joins " + topo_.vertices[static_cast<size_t>(u)].name + " and " +
                                topo_.vertices[static_cast<size_t>(v)].name);
  return ls;
}

void FlowNet::set_link_bandwidth(int u, int v, BytesPerSecond bw, bool one_way) {
  for (int l : joining(u, v)) {
    int from_u = topo_.links[static_cast<size_t>(l)].a == u ? 0 : 1;
    set_dirlink_bandwidth(2 * l + from_u, bw);
    if (!one_way) set_dirlink_bandwidth(2 * l + 1 - from_u, bw);
  }
}

void FlowNet::set_link_bandwidth_fraction(int u, int v, double fraction, bool one_way) {
  if (!(fraction > 0) || !std::isfinite(fraction)) throw std::invalid_argument("bandwidth fraction must be positive");
  for (int l : joining(u, v)) {
    BytesPerSecond bw = topo_.links[static_cast<size_t>(l)].params.bandwidth * fraction;  // of nominal
    int from_u = topo_.links[static_cast<size_t>(l)].a == u ? 0 : 1;
    set_dirlink_bandwidth(2 * l + from_u, bw);
    if (!one_way) set_dirlink_bandwidth(2 * l + 1 - from_u, bw);
  }
}

void FlowNet::set_link_up(int u, int v, bool up) {
  for (int l : joining(u, v)) set_link_id_up(l, up);
}

}  // namespace llmsim
