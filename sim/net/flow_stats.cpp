// FlowNet link and switch statistics (docs/outputs.md "stats"). Counters move only where
// the model already does work: a flow's drained bytes are credited to its route's links
// when its rate changes, when it ends and when it is rerouted (the moments its `remaining`
// is brought up to date); a link's busy interval opens and closes as its set of draining
// flows becomes non-empty / empty; capacity (the bandwidth integral) is settled only when
// the link's bandwidth or up/down state changes. A phase run on the fast path adds its
// bytes and per-class drain times to its pattern in O(classes), and those are spread over
// the pattern's links only when statistics are read (or the pattern list is pruned).
#include <algorithm>
#include <cmath>

#include "sim/net/flow_net.h"

namespace llmsim {
namespace {
// Link byte counters count 1/16 bytes in integers: each credit is rounded once (by at most
// 1/32 byte), and sums no longer depend on the order of credits at one instant.
constexpr double kByteUnits = 16;
std::int64_t byte_units(double bytes) { return std::llround(bytes * kByteUnits); }
}  // namespace

int FlowNet::switch_entered(DirLink d) const {
  const LinkInfo& li = topo_.links[static_cast<size_t>(dirlink_link(d))];
  const int to = dirlink_dir(d) == 0 ? li.b : li.a;
  return topo_.vertices[static_cast<size_t>(to)].kind == VertexInfo::Kind::Switch ? to : -1;
}

void FlowNet::link_add_flow(DirLink d, int id) {
  Link& l = links_[static_cast<size_t>(d)];
  if (l.flows.empty()) l.busy_since = q_.now();
  l.flows.push_back(id);
  l.peak_flows = std::max(l.peak_flows, static_cast<int>(l.flows.size()));
  if (int sw = switch_entered(d); sw >= 0) {
    SwitchStat& s = switch_stats_[static_cast<size_t>(sw)];
    if (s.active++ == 0) s.since = q_.now();
  }
}

void FlowNet::link_remove_flow(DirLink d, int id) {
  Link& l = links_[static_cast<size_t>(d)];
  auto it = std::find(l.flows.begin(), l.flows.end(), id);
  if (it == l.flows.end()) return;
  l.flows.erase(it);
  if (l.flows.empty()) l.busy += q_.now() - l.busy_since;
  if (int sw = switch_entered(d); sw >= 0) {
    SwitchStat& s = switch_stats_[static_cast<size_t>(sw)];
    if (--s.active == 0) switch_interval(sw, s.since, q_.now());
  }
}

void FlowNet::credit(const Route& route, Bytes payload_bytes) {
  const std::int64_t u = byte_units(payload_bytes);
  for (DirLink d : route.hops) links_[static_cast<size_t>(d)].bytes16 += u;
}

// Adds [begin, end] (end = now) to the switch's busy time, counting time already covered
// once: intervals are recorded when they close, so `covered` (the latest end counted) and
// an open per-flow interval (active > 0, since `since`) are all that overlap can be with.
void FlowNet::switch_interval(int vertex, SimTime begin, SimTime end) {
  SwitchStat& s = switch_stats_[static_cast<size_t>(vertex)];
  if (s.active > 0) {  // a per-flow interval is open: the union runs from the earlier start
    begin = std::min(begin, s.since);
    s.since = end;
  }
  const SimTime from = std::max(begin, s.covered);
  if (end > from) s.busy += end - from;
  s.covered = std::max(s.covered, end);
}

void FlowNet::account_fast_end(int id) {
  Phase& ph = phases_[static_cast<size_t>(id)];
  Pattern& pat = *ph.pattern;
  SimTime first = ph.end;
  for (const auto& c : pat.classes) first = std::min(first, ph.start + c.startup);
  if (ph.bulk) {
    // In bulk every link carries its load; it is counted busy for the time that load
    // takes at its full bandwidth (exact for the most loaded link, docs/outputs.md).
    for (size_t i = 0; i < pat.dirlinks.size(); ++i) {
      Link& l = links_[static_cast<size_t>(pat.dirlinks[i])];
      const double x = pat.load[i] * ph.bytes;
      l.bytes16 += byte_units(x);
      if (l.bw > 0) l.busy += to_simtime(x / l.bw);
      l.peak_flows = std::max(l.peak_flows, static_cast<int>(std::ceil(pat.load[i])));
    }
  } else {
    pat.fast_bytes += ph.bytes;
    for (size_t c = 0; c < pat.classes.size(); ++c) pat.class_busy[c] += drain_time(pat.classes[c], ph.bytes);
    unfolded_ = true;
    if (!pat.accounted) {
      pat.accounted = true;
      accounted_.push_back(ph.pattern);
      if (accounted_.size() >= prune_at_) {
        // Fold everything, then let go of patterns nobody else holds any more.
        fold_fast_stats();
        accounted_.erase(std::remove_if(accounted_.begin(), accounted_.end(),
                                        [](const PatternPtr& p) { return p.use_count() == 1; }),
                         accounted_.end());
        prune_at_ = std::max<std::size_t>(64, 2 * accounted_.size());
      }
    }
  }
  for (int sw : pat.switches) switch_interval(sw, first, ph.end);
}

void FlowNet::account_demoted(int id) {
  Phase& ph = phases_[static_cast<size_t>(id)];
  const Pattern& pat = *ph.pattern;
  const SimTime now = q_.now();
  SimTime first = now;
  for (size_t i = 0; i < pat.pairs.size(); ++i) {
    const Pattern::Class& c = pat.classes[static_cast<size_t>(pat.class_of[i])];
    const SimTime data_start = ph.start + c.startup;
    first = std::min(first, data_start);
    // As demote() does: alone, a transfer drains at its bottleneck; in bulk, evenly until
    // the phase's end. What has drained by now was carried; the flows carry the rest.
    const SimTime drain_end = ph.bulk ? ph.end : data_start + drain_time(c, ph.bytes);
    if (now <= data_start || drain_end <= data_start) continue;
    const SimTime until = std::min(now, drain_end);
    const double x = ph.bytes * c.weight * static_cast<double>(until - data_start) /
                     static_cast<double>(drain_end - data_start);
    for (DirLink d : pat.routes[i].hops) {
      Link& l = links_[static_cast<size_t>(d)];
      l.bytes16 += byte_units(x);
      if (ph.bulk)
        l.busy += l.bw > 0 ? to_simtime(x / l.bw) : 0;
      else
        l.busy += until - data_start;
      l.peak_flows = std::max(l.peak_flows, 1);
    }
  }
  if (now > first)
    for (int sw : pat.switches) switch_interval(sw, first, now);
}

void FlowNet::fold_fast_stats() {
  if (!unfolded_) return;
  unfolded_ = false;
  for (const PatternPtr& p : accounted_) {
    Pattern& pat = *p;
    if (pat.fast_bytes == 0) continue;  // nothing since the last fold (0 bytes drain in 0 s)
    for (size_t i = 0; i < pat.routes.size(); ++i) {
      const double w = pat.weight.empty() ? 1.0 : pat.weight[i];
      const std::int64_t x = byte_units(pat.fast_bytes * w);
      const SimTime busy = pat.class_busy[static_cast<size_t>(pat.class_of[i])];
      for (DirLink d : pat.routes[i].hops) {
        Link& l = links_[static_cast<size_t>(d)];
        l.bytes16 += x;
        l.busy += busy;
        l.peak_flows = std::max(l.peak_flows, 1);  // fast phases are link-disjoint
      }
    }
    pat.fast_bytes = 0;
    std::fill(pat.class_busy.begin(), pat.class_busy.end(), SimTime{0});
  }
}

void FlowNet::settle_capacity(DirLink d) {
  Link& l = links_[static_cast<size_t>(d)];
  const SimTime now = q_.now();
  if (link_up(dirlink_link(d))) l.capacity += l.bw * to_seconds(now - l.cap_since);
  l.cap_since = now;
}

FlowNet::LinkCounters FlowNet::link_counters(DirLink d) {
  fold_fast_stats();
  const Link& l = links_[static_cast<size_t>(d)];
  const SimTime now = q_.now();
  LinkCounters c;
  c.bytes = static_cast<double>(l.bytes16) / kByteUnits;
  c.busy_s = to_seconds(l.busy + (l.flows.empty() ? 0 : now - l.busy_since));
  c.peak_flows = l.peak_flows;
  c.capacity_bytes = l.capacity + (link_up(dirlink_link(d)) ? l.bw * to_seconds(now - l.cap_since) : Bytes{0});
  return c;
}

FlowNet::SwitchCounters FlowNet::switch_counters(int vertex) {
  fold_fast_stats();
  SwitchCounters c;
  for (const auto& [n, link] : topo_.neighbours(vertex)) {
    (void)n;
    const LinkInfo& li = topo_.links[static_cast<size_t>(link)];
    c.bytes += static_cast<double>(links_[static_cast<size_t>(2 * link + (li.b == vertex ? 0 : 1))].bytes16) / kByteUnits;
  }
  const SwitchStat& s = switch_stats_[static_cast<size_t>(vertex)];
  SimTime busy = s.busy;
  if (s.active > 0 && q_.now() > std::max(s.since, s.covered)) busy += q_.now() - std::max(s.since, s.covered);
  c.busy_s = to_seconds(busy);
  return c;
}

}  // namespace llmsim
