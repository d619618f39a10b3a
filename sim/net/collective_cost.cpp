// Analytical cost of a collective plan, for `auto` (collective.h, estimate_plan). Uses the
// same timing pieces the flow model runs on (path_class, drain_time, the bulk path's
// most-loaded-link bound), so the estimate of a fast-path plan is its simulated time.
#include <algorithm>
#include <map>
#include <vector>

#include "sim/net/collective.h"

namespace llmsim {
namespace {

// What one step of a pattern costs, as a function of the bytes it moves.
struct PatternCost {
  Seconds startup = 0;                  // largest route start-up
  std::vector<Pattern::Class> classes;  // distinct unloaded route timings
  double link_seconds_per_byte = 0;     // most loaded directed link: load / bandwidth

  Seconds step(Bytes bytes) const {
    Seconds alone = 0;
    for (const auto& c : classes) alone = std::max(alone, to_seconds(drain_time(c, bytes)));
    return startup + std::max(alone, Seconds{link_seconds_per_byte * bytes.value()});
  }
};

PatternCost cost_of(const Topology& topo, const Pattern& p) {
  PatternCost out;
  std::map<DirLink, double> load;
  for (size_t i = 0; i < p.pairs.size(); ++i) {
    const Route& r = topo.route(p.pairs[i].first, p.pairs[i].second);
    Pattern::Class c = path_class(topo, r);
    c.weight = p.weight.empty() ? 1.0 : p.weight[i];
    out.startup = std::max(out.startup, to_seconds(c.startup));
    if (std::find(out.classes.begin(), out.classes.end(), c) == out.classes.end()) out.classes.push_back(c);
    for (DirLink d : r.hops) load[d] += c.weight;
  }
  for (const auto& kv : load) {
    double bw = topo.links[static_cast<size_t>(dirlink_link(kv.first))].params.bandwidth;
    if (bw > 0) out.link_seconds_per_byte = std::max(out.link_seconds_per_byte, kv.second / bw);
  }
  return out;
}

}  // namespace

Seconds estimate_plan(const Topology& topo, const Plan& plan) {
  // Patterns recur across stages (direct all-reduce, mirrored rings): cost each once.
  std::map<const Pattern*, PatternCost> costs;
  const double lanes = std::max(1, plan.lanes);
  Seconds sum = 0, longest = 0;
  for (const Stage& st : plan.stages) {
    if (!st.pattern || st.pattern->pairs.empty()) continue;
    auto it = costs.find(st.pattern.get());
    if (it == costs.end()) it = costs.emplace(st.pattern.get(), cost_of(topo, *st.pattern)).first;
    Seconds t = st.steps * (st.step_latency + it->second.step(st.bytes / lanes));
    sum += t;
    longest = std::max(longest, t);
  }
  return plan.startup + sum + (lanes - 1) * longest;
}

}  // namespace llmsim
