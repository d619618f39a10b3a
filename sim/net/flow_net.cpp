#include "sim/net/flow_net.h"
#include "sim/topo/module_names.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace llmsim {
namespace {
// Phase starts and rate recomputation run after every other event at the same instant
// (higher number = later), so a burst of flows starting together costs one recomputation,
// not one each, and phases requested together start in their own order (start_phases).
constexpr int kSettlePriority = 1 << 20;
// Rates closer than this (relative) count as unchanged: their completion event stands.
constexpr double kRateEpsilon = 1e-12;
}  // namespace

Pattern::Class path_class(const Topology& topo, const Route& route) {
  Pattern::Class c;
  Seconds overhead = 0;
  BytesPerSecond bw = route.bottleneck;
  bool min_bw = bw <= 0;
  for (DirLink d : route.hops) {
    const LinkParams& p = topo.links[static_cast<size_t>(dirlink_link(d))].params;
    overhead = std::max(overhead, p.per_message_overhead);
    if (min_bw) bw = bw <= 0 ? p.bandwidth : std::min(bw, p.bandwidth);
    if (p.max_payload > 0) c.chunk = c.chunk > 0 ? std::min(c.chunk, p.max_payload) : p.max_payload;
  }
  c.startup = to_simtime(overhead + route.latency);
  c.bw = bw;
  c.hops = static_cast<int>(route.hops.size());
  return c;
}

FlowNet::FlowNet(const Topology& topo, EventQueue& queue, Recorder& recorder)
    : topo_(topo), q_(queue), rec_(recorder), links_(topo.links.size() * 2), owner_(topo.links.size() * 2, -1),
      switch_stats_(topo.vertices.size()) {
  for (size_t l = 0; l < topo.links.size(); ++l) {
    links_[2 * l].bw = topo.links[l].params.bandwidth;
    links_[2 * l + 1].bw = topo.links[l].params.bandwidth;
  }
}

void FlowNet::resolve(Pattern& p) const {
  if (p.resolved) return;
  p.routes.clear();
  p.class_of.clear();
  p.classes.clear();
  p.dirlinks.clear();
  p.routes.reserve(p.pairs.size());  // every plan's first step resolves its patterns
  p.class_of.reserve(p.pairs.size());
  for (size_t i = 0; i < p.pairs.size(); ++i) {
    p.routes.push_back(route_for(p.pairs[i].first, p.pairs[i].second));
    const Route& r = p.routes.back();
    Pattern::Class c = klass(r);
    if (!p.weight.empty()) c.weight = p.weight[i];
    auto it = std::find(p.classes.begin(), p.classes.end(), c);
    if (it == p.classes.end()) it = p.classes.insert(p.classes.end(), c);
    p.class_of.push_back(static_cast<int>(it - p.classes.begin()));
    p.dirlinks.insert(p.dirlinks.end(), r.hops.begin(), r.hops.end());
  }
  std::vector<DirLink> all = p.dirlinks;
  std::sort(p.dirlinks.begin(), p.dirlinks.end());
  size_t total = p.dirlinks.size();
  p.dirlinks.erase(std::unique(p.dirlinks.begin(), p.dirlinks.end()), p.dirlinks.end());
  p.disjoint = p.dirlinks.size() == total;
  p.load.assign(p.dirlinks.size(), 0.0);
  p.class_busy.assign(p.classes.size(), SimTime{0});
  p.switches.clear();
  for (DirLink d : p.dirlinks)
    if (int sw = switch_entered(d); sw >= 0) p.switches.push_back(sw);
  std::sort(p.switches.begin(), p.switches.end());
  p.switches.erase(std::unique(p.switches.begin(), p.switches.end()), p.switches.end());
  size_t k = 0;
  for (size_t i = 0; i < p.pairs.size(); ++i) {
    double w = p.weight.empty() ? 1.0 : p.weight[i];
    for (size_t h = 0; h < p.routes[i].hops.size(); ++h, ++k) {
      auto it = std::lower_bound(p.dirlinks.begin(), p.dirlinks.end(), all[k]);
      p.load[static_cast<size_t>(it - p.dirlinks.begin())] += w;
    }
  }
  p.uniform = !p.disjoint && p.classes.size() == 1 && !(p.classes[0].chunk > 0);
  for (size_t i = 1; p.uniform && i < p.dirlinks.size(); ++i)
    p.uniform = p.load[i] == p.load[0] &&
                links_[static_cast<size_t>(p.dirlinks[i])].bw == links_[static_cast<size_t>(p.dirlinks[0])].bw;
  p.resolved = true;
  p.epoch = epoch_;
}

int FlowNet::new_flow(int src, int dst, const Route* route, Bytes bytes, int phase,
                      std::function<void()> done) {
  int id;
  if (!free_flows_.empty()) {
    id = free_flows_.back();
    free_flows_.pop_back();
  } else {
    id = static_cast<int>(flows_.size());
    flows_.emplace_back();
    flow_stamp_.push_back(0);
  }
  Flow& f = flows_[static_cast<size_t>(id)];
  Pattern::Class c = klass(*route);
  f.route = route;
  f.remaining = bytes + fill_bytes(c, bytes);
  f.payload = f.remaining > 0 ? bytes.value() / f.remaining : 1;
  f.rate = 0;
  f.cap = c.bw;
  f.last = q_.now();
  f.begin = q_.now();
  f.phase = phase;
  f.active = false;
  f.live = true;
  f.done = std::move(done);
  f.src = src;
  f.dst = dst;
  f.bytes = bytes;
  f.route_bytes = bytes.value();
  ++stats_.flows;
  return id;
}

void FlowNet::transfer(int src, int dst, Bytes bytes, std::function<void()> done) {
  auto own = std::make_unique<Route>(route_for(src, dst));
  const Route* r = own.get();
  int id = new_flow(src, dst, r, bytes, -1, std::move(done));
  flows_[static_cast<size_t>(id)].own = std::move(own);
  start_flow(id, time_add(q_.now(), klass(*r).startup));
}

void FlowNet::start_flow(int id, SimTime data_start) {
  if (data_start <= q_.now()) {
    activate(id);
    return;
  }
  std::uint32_t g = flows_[static_cast<size_t>(id)].gen;
  q_.at(data_start, [this, id, g] {
    if (flows_[static_cast<size_t>(id)].gen == g) activate(id);
  });
}

void FlowNet::activate(int id) {
  claim(*flows_[static_cast<size_t>(id)].route);  // may demote (and allocate flows): first
  Flow& f = flows_[static_cast<size_t>(id)];
  if (f.route->hops.empty() || f.remaining <= 0) {  // nothing to drain: arrives now
    std::uint32_t g = ++f.gen;  // as an event, so callers never see `done` re-entrantly
    q_.at(q_.now(), [this, id, g] {
      if (flows_[static_cast<size_t>(id)].gen == g) finish_flow(id);
    });
    return;
  }
  f.active = true;
  f.last = q_.now();
  f.rate = 0;
  ++active_flows_;
  for (DirLink d : f.route->hops) {
    link_add_flow(d, id);
    mark_dirty(d);
  }
}

void FlowNet::claim(const Route& route) {
  if (fast_active_.empty()) return;
  for (DirLink d : route.hops) {
    int o = owner_of(d);
    if (o >= 0) demote(o);
  }
}

void FlowNet::mark_dirty(DirLink d) {
  dirty_.push_back(d);
  schedule_settle();
}

void FlowNet::schedule_settle() {
  if (settle_pending_) return;
  settle_pending_ = true;
  q_.at(
      q_.now(), [this] { settle(); }, kSettlePriority);
}

void FlowNet::settle() {
  start_phases();  // may mark links dirty: the recomputation below covers them
  settle_pending_ = false;
  recompute();
}

void FlowNet::route_spans(const Flow& f, double bytes) {
  // `bytes`: what crossed this route, the whole message unless a link change moved the
  // flow (reroute_flows): then what the old route carried, and what was left on the new.
  std::string name =
      topo_.vertices[static_cast<size_t>(f.src)].name + "->" + topo_.vertices[static_cast<size_t>(f.dst)].name;
  std::string args = "{\"bytes\":" + std::to_string(static_cast<long long>(bytes)) + "}";
  for (DirLink d : f.route->hops) spans_.push_back({link_track(d), f.begin, name, args});
}

void FlowNet::flush_spans() {
  // Flows ending at the same instant finish in event order, which --debug-tie-shuffle
  // permutes; their spans go out sorted so the timeline does not depend on it.
  std::sort(spans_.begin(), spans_.end(), [](const Span& a, const Span& b) {
    return a.track != b.track ? a.track < b.track : a.begin != b.begin ? a.begin < b.begin : a.name < b.name;
  });
  for (const Span& sp : spans_) rec_.span(sp.track, sp.name, "net", sp.begin, q_.now(), sp.args);
  spans_.clear();
}

void FlowNet::recompute() {
  if (!spans_.empty()) flush_spans();
  if (dirty_.empty()) return;
  ++stats_.recomputes;
  collect_component();
  fill_rates();
  apply_rates();
  if (rec_.on())
    for (DirLink d : comp_) show_link(d);
}

void FlowNet::collect_component() {
  // The component: every link reachable from a dirty link through shared flows. Rates
  // outside it cannot change (max-min fairness is decided per connected component).
  ++stamp_;
  std::vector<DirLink>& comp = comp_;  // scratch kept across calls: no allocation per call
  std::vector<int>& cflows = cflows_;
  comp.clear();
  cflows.clear();
  for (DirLink d : dirty_) {
    Link& l = links_[static_cast<size_t>(d)];
    if (l.stamp == stamp_) continue;
    l.stamp = stamp_;
    comp.push_back(d);
  }
  dirty_.clear();
  for (size_t i = 0; i < comp.size(); ++i) {
    for (int fid : links_[static_cast<size_t>(comp[i])].flows) {
      if (flow_stamp_[static_cast<size_t>(fid)] == stamp_) continue;
      flow_stamp_[static_cast<size_t>(fid)] = stamp_;
      cflows.push_back(fid);
      for (DirLink h : flows_[static_cast<size_t>(fid)].route->hops) {
        Link& l = links_[static_cast<size_t>(h)];
        if (l.stamp == stamp_) continue;
        l.stamp = stamp_;
        comp.push_back(h);
      }
    }
  }
  // A canonical order, so floating-point sums and heap ties do not depend on the order
  // in which same-time events touched the links.
  std::sort(comp.begin(), comp.end());
  std::sort(cflows.begin(), cflows.end());
}

void FlowNet::fill_rates() {
  // Progressive filling: raise every unfrozen flow's rate together; the link whose fair
  // share (remaining capacity / unfrozen flows) is smallest saturates first and freezes
  // its flows at that share. A lazy min-heap keyed by share finds it.
  const std::vector<DirLink>& comp = comp_;
  const std::vector<int>& cflows = cflows_;
  std::vector<double>& rem = rem_;
  std::vector<int>& cnt = cnt_;
  std::vector<std::uint32_t>& ver = ver_;
  std::vector<double>& rate = rate_;
  rem.assign(comp.size(), 0);
  cnt.assign(comp.size(), 0);
  ver.assign(comp.size(), 0);
  rate.assign(cflows.size(), -1);
  heap_.clear();
  auto push = [this](double share, int pos, std::uint32_t v) {
    heap_.push_back({share, {pos, v}});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<HeapEntry>());
  };
  for (size_t i = 0; i < comp.size(); ++i) {
    Link& l = links_[static_cast<size_t>(comp[i])];
    l.pos = static_cast<int>(i);
    rem[i] = l.bw;
    cnt[i] = static_cast<int>(l.flows.size());
    if (cnt[i] > 0) push(rem[i] / cnt[i], static_cast<int>(i), 0);
  }
  for (size_t i = 0; i < cflows.size(); ++i) flows_[static_cast<size_t>(cflows[i])].pos = static_cast<int>(i);
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<HeapEntry>());
    HeapEntry e = heap_.back();
    heap_.pop_back();
    int p = e.second.first;
    if (e.second.second != ver[static_cast<size_t>(p)] || cnt[static_cast<size_t>(p)] == 0) continue;
    double share = std::max(0.0, rem[static_cast<size_t>(p)] / cnt[static_cast<size_t>(p)]);
    for (int fid : links_[static_cast<size_t>(comp[static_cast<size_t>(p)])].flows) {
      Flow& f = flows_[static_cast<size_t>(fid)];
      if (rate[static_cast<size_t>(f.pos)] >= 0) continue;
      rate[static_cast<size_t>(f.pos)] = share;
      for (DirLink h : f.route->hops) {
        size_t q = static_cast<size_t>(links_[static_cast<size_t>(h)].pos);
        rem[q] -= share;
        --cnt[q];
        if (static_cast<int>(q) != p && cnt[q] > 0) push(rem[q] / cnt[q], static_cast<int>(q), ++ver[q]);
      }
    }
  }
}

void FlowNet::apply_rates() {
  SimTime now = q_.now();
  for (size_t i = 0; i < cflows_.size(); ++i) {
    Flow& f = flows_[static_cast<size_t>(cflows_[i])];
    double r = rate_[i];
    if (f.rate > 0 && std::fabs(r - f.rate) <= kRateEpsilon * f.rate) continue;
    const double drained = std::min(f.remaining, f.rate * to_seconds(now - f.last).value());
    if (drained > 0) credit(*f.route, drained * f.payload);
    f.remaining -= drained;
    if (f.remaining < 0) f.remaining = 0;
    f.last = now;
    f.rate = r;
    schedule_completion(cflows_[i]);
  }
}

void FlowNet::schedule_completion(int id) {
  Flow& f = flows_[static_cast<size_t>(id)];
  std::uint32_t g = ++f.gen;
  if (f.rate <= 0) return;  // starved (a zero-capacity link): never completes on its own
  q_.at(time_add(q_.now(), to_simtime(f.remaining / f.rate)), [this, id, g] {
    if (flows_[static_cast<size_t>(id)].gen == g) finish_flow(id);
  });
}

void FlowNet::finish_flow(int id) {
  Flow& f = flows_[static_cast<size_t>(id)];
  if (f.active) {
    --active_flows_;
    if (f.remaining > 0) credit(*f.route, f.remaining * f.payload);  // drained since f.last
    for (DirLink d : f.route->hops) {
      link_remove_flow(d, id);
      mark_dirty(d);
    }
  }
  if (rec_.on()) route_spans(f, f.route_bytes);
  std::function<void()> done = std::move(f.done);
  int phase = f.phase;
  f.done = nullptr;
  f.own.reset();
  f.live = false;
  f.active = false;
  ++f.gen;
  free_flows_.push_back(id);
  if (phase >= 0)
    phase_transfer_done(phase);
  else if (done)
    done();
}

int FlowNet::owner_of(DirLink d) const {
  if (marking_) return owner_[static_cast<size_t>(d)];
  for (int id : fast_active_) {
    const auto& dl = phases_[static_cast<size_t>(id)].pattern->dirlinks;
    if (std::binary_search(dl.begin(), dl.end(), d)) return id;
  }
  return -1;
}

void FlowNet::own_links(int id, int owner) {
  for (DirLink d : phases_[static_cast<size_t>(id)].pattern->dirlinks) owner_[static_cast<size_t>(d)] = owner;
}

void FlowNet::fast_started(int id) {
  fast_active_.push_back(id);
  if (marking_) {
    own_links(id, id);
  } else if (fast_active_.size() > kMarkAbove) {
    marking_ = true;
    for (int f : fast_active_) own_links(f, f);
  }
}

void FlowNet::fast_ended(int id) {
  fast_active_.erase(std::find(fast_active_.begin(), fast_active_.end(), id));
  if (marking_) own_links(id, -1);
  if (fast_active_.empty()) marking_ = false;  // every mark was cleared with its phase
}

BytesPerSecond FlowNet::link_load(DirLink d) const {
  const Link& l = links_[static_cast<size_t>(d)];
  if (owner_of(d) >= 0) return l.bw;
  double s = 0;
  for (int f : l.flows) s += flows_[static_cast<size_t>(f)].rate;
  return s;
}

void FlowNet::create_tracks() {
  for (size_t d = 0; d < links_.size(); ++d) link_track(static_cast<DirLink>(d));
}

int FlowNet::link_track(DirLink d) {
  Link& l = links_[static_cast<size_t>(d)];
  if (l.track < 0) {
    // Named as the link's module (sim/topo/module_names.h): process = its fabric, thread =
    // the link, then the direction ("nvlink" / "gpu0-sw0.to_sw0"), so VCD scopes are
    // the module path plus one scope per direction.
    if (link_names_.empty()) link_names_ = link_module_names(topo_);
    const int link = dirlink_link(d);
    const LinkInfo& li = topo_.links[static_cast<size_t>(link)];
    const int to = dirlink_dir(d) == 0 ? li.b : li.a;
    const std::string fabric = li.fabric.empty() ? "links" : sc_safe_name(li.fabric);
    const std::string name = link_names_[static_cast<size_t>(link)] + ".to_" + vertex_local_name(topo_, to, li.fabric_id);
    l.track = rec_.track(fabric, name, d);
  }
  return l.track;
}

void FlowNet::show_link(DirLink d) {
  Link& l = links_[static_cast<size_t>(d)];
  double u = l.bw > 0 ? link_load(d) / l.bw : 0;
  // Rounded: the rates' sum depends on the flows' order on the link, which same-time
  // event order (--debug-tie-shuffle) permutes in the last bit.
  u = std::round(u * 1e9) / 1e9;
  if (std::fabs(u - l.shown) < 1e-9) return;
  l.shown = u;
  rec_.counter(link_track(d), "utilisation", q_.now(), u);
}

}  // namespace llmsim
