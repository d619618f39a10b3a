#include "sim/engine/stats.h"

#include <algorithm>
#include <map>

#include "models/device.h"
#include "models/network.h"
#include "sim/engine/simulation.h"
#include "sim/net/flow_net.h"

namespace llmsim {

nlohmann::ordered_json StatsRegistry::summary(bool full) const {
  struct Agg {
    double sum = 0, max = 0;
    long n = 0;
    std::string unit;
  };
  std::vector<std::pair<std::string, std::string>> order;  // (kind, name) as first seen
  std::map<std::pair<std::string, std::string>, Agg> agg;
  nlohmann::ordered_json components = nlohmann::ordered_json::object();
  for (const auto& s : stats_) {
    const double v = s.value ? s.value() : 0.0;
    auto key = std::make_pair(s.kind, s.name);
    auto it = agg.find(key);
    if (it == agg.end()) {
      order.push_back(key);
      it = agg.emplace(key, Agg{}).first;
      it->second.max = v;
      it->second.unit = s.unit;
    }
    it->second.sum += v;
    it->second.max = std::max(it->second.max, v);
    ++it->second.n;
    if (full) components[s.component][s.name] = v;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& key : order) {
    const Agg& a = agg.at(key);
    out[key.first][key.second] = {{"sum", a.sum}, {"mean", a.sum / static_cast<double>(a.n)},
                                  {"max", a.max}, {"count", a.n}, {"unit", a.unit}};
  }
  if (full) out["components"] = components;
  return out;
}

namespace {

void register_device(StatsRegistry& reg, Simulation& sim, Device& dev) {
  const std::string base = dev.label();
  auto elapsed = [&sim] { return to_seconds(sim.now()); };
  for (const auto& sp : dev.streams()) {
    ComputeCore* s = sp.get();
    const std::string comp = base + "." + s->basename(), kind = std::string("stream.") + s->basename();
    reg.add({comp, kind, "ops", "1", "operators completed", [s] { return static_cast<double>(s->ops_done()); }});
    reg.add({comp, kind, "busy_s", "s", "time with an op in flight", [s] { return to_seconds(s->busy_time()); }});
    reg.add({comp, kind, "queue_delay_s", "s", "time ops waited behind earlier ops of the stream",
             [s] { return to_seconds(s->queue_delay()); }});
    reg.add({comp, kind, "flops", "FLOP", "useful FLOPs of its ops", [s] { return s->flops(); }});
  }
  ResourceArbiter* arb = &dev.arbiter();
  for (int r = 0; r < arb->num_resources(); ++r) {
    const bool compute = r == ResourceArbiter::kCompute;
    // Compute units are not a module of their own: named apart from the `compute` stream.
    const std::string comp = base + "." + (compute ? std::string("compute_units") : arb->resource_name(r));
    const std::string kind = compute ? "compute_units" : "tier." + arb->resource_name(r);
    reg.add({comp, kind, "busy_s", "s", "time with any activity on the resource",
             [arb, r] { return to_seconds(arb->busy_time(r)); }});
    reg.add({comp, kind, compute ? "unit_seconds" : "bytes", compute ? "unit-s" : "B",
             compute ? "units x seconds served, at the nominal clock" : "bytes served",
             [arb, r] { return arb->work_served(r); }});
    reg.add({comp, kind, "utilization", "1", "served / (nominal capacity x simulated time)", [arb, r, elapsed] {
               double t = elapsed();
               return t > 0 ? arb->work_served(r) / (arb->nominal_capacity(r) * t) : 0.0;
             }});
  }
}

}  // namespace

void register_standard_stats(Simulation& sim) {
  StatsRegistry& reg = sim.stats();
  for (int d = 0; d < sim.num_devices(); ++d) register_device(reg, sim, sim.device(d));
  FlowNet* net = &sim.network().flows();
  const std::string comp = "network";
  reg.add({comp, "network", "flows", "1", "messages simulated per flow", [net] { return static_cast<double>(net->stats().flows); }});
  reg.add({comp, "network", "fast_phases", "1", "collective phases timed analytically",
           [net] { return static_cast<double>(net->stats().fast_phases); }});
  reg.add({comp, "network", "slow_phases", "1", "collective phases simulated per flow",
           [net] { return static_cast<double>(net->stats().slow_phases); }});
  reg.add({comp, "network", "recomputes", "1", "max-min rate recomputations",
           [net] { return static_cast<double>(net->stats().recomputes); }});
}

}  // namespace llmsim
