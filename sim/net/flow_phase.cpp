// FlowNet phases: a collective step either runs analytically (the fast path, one event)
// or as one flow per transfer; a fast phase is demoted to flows, with each transfer's
// exact progress, as soon as other traffic wants one of its links.
#include <algorithm>

#include "sim/net/flow_net.h"

namespace llmsim {

void FlowNet::phase(const PatternPtr& requested, Bytes bytes, std::function<void()> done) {
  // After a link state change, a pattern resolved before it runs as a re-resolved copy.
  const PatternPtr& pattern = current(requested);
  int id;
  if (!free_phases_.empty()) {
    id = free_phases_.back();
    free_phases_.pop_back();
  } else {
    id = static_cast<int>(phases_.size());
    phases_.emplace_back();
  }
  Phase& ph = phases_[static_cast<size_t>(id)];
  ph.pattern = pattern;
  ph.bytes = bytes;
  ph.pending = static_cast<int>(pattern->pairs.size());
  ph.fast = false;
  ph.bulk = false;
  ph.start = q_.now();
  ph.done = std::move(done);
  ph.live = true;
  if (ph.pending == 0) {
    ph.pending = 1;
    q_.at(q_.now(), [this, id] { phase_transfer_done(id); });
    return;
  }
  // Whether a phase runs fast depends on what holds its links, so phases starting at one
  // instant are started together at its end (settle()), in an order of their own
  // (start_phases), not in the order their events ran.
  starting_.push_back(id);
  schedule_settle();
}

void FlowNet::start_phases() {
  if (starting_.size() > 1)
    std::stable_sort(starting_.begin(), starting_.end(), [this](int a, int b) {
      const Phase& x = phases_[static_cast<size_t>(a)];
      const Phase& y = phases_[static_cast<size_t>(b)];
      if (x.pattern != y.pattern) {
        if (x.pattern->pairs != y.pattern->pairs) return x.pattern->pairs < y.pattern->pairs;
        if (x.pattern->weight != y.pattern->weight) return x.pattern->weight < y.pattern->weight;
      }
      return x.bytes < y.bytes;
    });
  // Phases with equal keys are interchangeable: the same transfers, whichever runs first.
  // Starting one never requests another (completions are events), so the list is stable.
  for (int id : starting_) start_phase(id);
  starting_.clear();
}

void FlowNet::start_phase(int id) {
  Phase& ph = phases_[static_cast<size_t>(id)];
  ph.pattern = current(ph.pattern);  // a link may have changed state since it was requested
  const PatternPtr& pattern = ph.pattern;
  const Bytes bytes = ph.bytes;
  bool bulk = !pattern->disjoint && (pattern->uniform || pattern->pairs.size() > max_exact_flows_);
  bool idle = fast_path_ && (pattern->disjoint || bulk);
  if (idle && (active_flows_ > 0 || !fast_active_.empty())) {
    for (DirLink d : pattern->dirlinks) {
      if (!links_[static_cast<size_t>(d)].flows.empty() || owner_of(d) >= 0) {
        idle = false;
        break;
      }
    }
  }
  if (!idle) {
    ++stats_.slow_phases;
    for (size_t i = 0; i < pattern->pairs.size(); ++i) {
      const Pattern::Class& c = pattern->classes[static_cast<size_t>(pattern->class_of[i])];
      int f = new_flow(pattern->pairs[i].first, pattern->pairs[i].second, &pattern->routes[i], bytes * c.weight, id,
                       nullptr);
      start_flow(f, time_add(q_.now(), c.startup));
    }
    return;
  }
  // Fast path: each transfer is alone on its links, so it drains at its bottleneck
  // bandwidth, exactly as the per-flow path would compute it.
  ph.fast = true;
  ph.bulk = bulk;
  SimTime end = q_.now();
  if (bulk) {
    ++stats_.bulk_phases;
    SimTime startup = 0, drain = 0;
    for (const auto& c : pattern->classes) startup = std::max(startup, c.startup);
    for (size_t i = 0; i < pattern->dirlinks.size(); ++i) {
      BytesPerSecond bw = links_[static_cast<size_t>(pattern->dirlinks[i])].bw;
      if (bw > 0) drain = std::max(drain, to_simtime(pattern->load[i] * bytes / bw));
    }
    end = time_add(time_add(q_.now(), startup), drain);
  } else {
    ++stats_.fast_phases;
    for (const auto& c : pattern->classes) end = std::max(end, time_add(time_add(q_.now(), c.startup), drain_time(c, bytes)));
  }
  ph.end = end;
  fast_started(id);
  if (rec_.on())
    for (DirLink d : pattern->dirlinks) show_link(d);
  std::uint32_t g = ++ph.gen;
  q_.at(end, [this, id, g] {
    Phase& p = phases_[static_cast<size_t>(id)];
    if (p.gen != g) return;
    account_fast_end(id);
    release_links(id);
    p.pending = 1;
    phase_transfer_done(id);
  });
}

void FlowNet::release_links(int id) {
  Phase& ph = phases_[static_cast<size_t>(id)];
  const Pattern& pat = *ph.pattern;
  fast_ended(id);
  ph.fast = false;
  if (!rec_.on()) return;
  // Spans for the transfers the fast path did not simulate one by one.
  SimTime now = q_.now();
  for (size_t i = 0; i < pat.pairs.size(); ++i) {
    const Pattern::Class& c = pat.classes[static_cast<size_t>(pat.class_of[i])];
    SimTime end = ph.bulk ? now : std::min(now, ph.start + c.startup + drain_time(c, ph.bytes));
    std::string name = topo_.vertices[static_cast<size_t>(pat.pairs[i].first)].name + "->" +
                       topo_.vertices[static_cast<size_t>(pat.pairs[i].second)].name;
    std::string args = "{\"bytes\":" + std::to_string(static_cast<long long>(ph.bytes * c.weight)) + "}";
    for (DirLink d : pat.routes[i].hops) rec_.span(link_track(d), name, "net", ph.start, end, args);
  }
  for (DirLink d : pat.dirlinks) show_link(d);
}

void FlowNet::demote(int id) {
  ++stats_.demotions;
  account_demoted(id);
  Phase& ph = phases_[static_cast<size_t>(id)];
  ++ph.gen;  // cancels the phase's single completion event
  SimTime now = q_.now();
  PatternPtr keep = ph.pattern;  // the phase may complete (and drop it) below
  const Pattern& pat = *keep;
  // Give the links back without timeline spans: transfers still running become flows
  // below and record their own spans when they finish.
  fast_ended(id);
  ph.fast = false;
  int pending = 0;
  for (size_t i = 0; i < pat.pairs.size(); ++i) {
    const Pattern::Class& c = pat.classes[static_cast<size_t>(pat.class_of[i])];
    SimTime data_start = ph.start + c.startup;
    // Alone, a transfer drains at its bottleneck; in bulk, every transfer is taken to
    // progress evenly until the phase's end.
    SimTime drain_end = ph.bulk ? ph.end : data_start + drain_time(c, ph.bytes);
    if (drain_end <= now) continue;  // already arrived
    ++pending;
    int f = new_flow(pat.pairs[i].first, pat.pairs[i].second, &pat.routes[i], ph.bytes * c.weight, id, nullptr);
    Flow& fl = flows_[static_cast<size_t>(f)];
    fl.begin = ph.start;
    if (now > data_start && ph.bulk)
      fl.remaining *= 1.0 - static_cast<double>(now - data_start) / static_cast<double>(drain_end - data_start);
    else if (now > data_start)
      fl.remaining -= c.bw * to_seconds(now - data_start);
    if (fl.remaining < 0) fl.remaining = 0;
    start_flow(f, data_start > now ? data_start : now);
  }
  // The next recomputation redraws these links' utilisation (1 while the phase held them).
  if (rec_.on())
    for (DirLink d : pat.dirlinks) mark_dirty(d);
  phases_[static_cast<size_t>(id)].pending = pending;
  if (pending == 0) {
    phases_[static_cast<size_t>(id)].pending = 1;
    q_.at(now, [this, id] { phase_transfer_done(id); });
  }
}

void FlowNet::phase_transfer_done(int id) {
  Phase& ph = phases_[static_cast<size_t>(id)];
  if (--ph.pending > 0) return;
  std::function<void()> done = std::move(ph.done);
  ph.done = nullptr;
  ph.pattern.reset();
  ph.live = false;
  ++ph.gen;
  free_phases_.push_back(id);
  if (done) done();
}

}  // namespace llmsim
