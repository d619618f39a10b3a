#include "sim/engine/stats.h"

#include <algorithm>
#include <map>

#include "models/device.h"
#include "models/fabric.h"
#include "models/network.h"
#include "sim/engine/simulation.h"
#include "sim/net/flow_net.h"
#include "sim/topo/module_names.h"

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
  auto record = [&](const std::string& component, const std::string& kind, const std::string& name,
                    const std::string& unit, double v) {
    auto key = std::make_pair(kind, name);
    auto it = agg.find(key);
    if (it == agg.end()) {
      order.push_back(key);
      it = agg.emplace(key, Agg{}).first;
      it->second.max = v;
      it->second.unit = unit;
    }
    it->second.sum += v;
    it->second.max = std::max(it->second.max, v);
    ++it->second.n;
    if (full) components[component][name] = v;
  };
  for (const auto& s : stats_) record(s.component, s.kind, s.name, s.unit, s.value ? s.value() : 0.0);
  // A family aggregates field by field locally (no key look-up per member: a 16,384-GPU
  // fabric has ~10^5 link directions), then joins the kinds in registration order.
  std::vector<double> values;
  for (const auto& f : families_) {
    std::vector<Agg> local(f.fields.size());
    for (std::size_t i = 0; i < f.count; ++i) {
      values.assign(f.fields.size(), 0.0);
      f.values(i, values);
      for (std::size_t k = 0; k < f.fields.size(); ++k) {
        Agg& a = local[k];
        a.max = a.n == 0 ? values[k] : std::max(a.max, values[k]);
        a.sum += values[k];
        ++a.n;
      }
      if (full) {
        nlohmann::ordered_json& c = components[f.component(i)];
        for (std::size_t k = 0; k < f.fields.size(); ++k) c[f.fields[k].name] = values[k];
      }
    }
    for (std::size_t k = 0; k < f.fields.size(); ++k) {
      auto key = std::make_pair(f.kind, f.fields[k].name);
      if (agg.find(key) == agg.end()) order.push_back(key);
      Agg& a = agg[key];
      a.unit = f.fields[k].unit;
      a.max = a.n == 0 ? local[k].max : std::max(a.max, local[k].max);
      a.sum += local[k].sum;
      a.n += local[k].n;
    }
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

// Every link direction (`nvlink.gpu0-sw0.to_sw0`, the link module's path plus the end the
// bytes travel to, as the timeline's link tracks) and every switch module (`nvlink.sw0`).
void register_fabric_stats(StatsRegistry& reg, Simulation& sim) {
  Network& network = sim.network();
  const Topology& topo = sim.topo();
  FlowNet* net = &network.flows();
  std::vector<std::pair<const LinkModule*, int>> dirs;  // (module, direction)
  std::vector<const SwitchModule*> switches;
  for (const auto& fab : network.fabrics()) {
    for (const auto& lm : fab->links()) {
      dirs.push_back({lm.get(), 0});
      dirs.push_back({lm.get(), 1});
    }
    for (const auto& sw : fab->switches()) switches.push_back(sw.get());
  }
  StatFamily links;
  links.kind = "link";
  links.fields = {{"bytes", "B", "payload bytes carried in this direction"},
                  {"busy_s", "s", "time with at least one transfer draining over it"},
                  {"utilization", "1", "bytes / (bandwidth integrated over the run, 0 while down)"},
                  {"peak_flows", "1", "most transfers draining over it at once"}};
  links.count = dirs.size();
  links.component = [dirs, &topo](std::size_t i) {
    const LinkInfo& li = topo.links[static_cast<std::size_t>(dirs[i].first->link())];
    const int to = dirs[i].second == 0 ? li.b : li.a;
    return std::string(dirs[i].first->name()) + ".to_" + vertex_local_name(topo, to, li.fabric_id);
  };
  links.values = [dirs, net](std::size_t i, std::vector<double>& v) {
    FlowNet::LinkCounters c = net->link_counters(2 * dirs[i].first->link() + dirs[i].second);
    v = {c.bytes, c.busy_s, c.capacity_bytes > 0 ? c.bytes / c.capacity_bytes : 0.0, static_cast<double>(c.peak_flows)};
  };
  if (links.count > 0) reg.add_family(std::move(links));
  StatFamily sws;
  sws.kind = "switch";
  sws.fields = {{"bytes", "B", "bytes switched (entering it; each byte counted once)"},
                {"busy_s", "s", "time with at least one transfer through it"}};
  sws.count = switches.size();
  sws.component = [switches](std::size_t i) { return std::string(switches[i]->name()); };
  sws.values = [switches, net](std::size_t i, std::vector<double>& v) {
    FlowNet::SwitchCounters c = net->switch_counters(switches[i]->vertex());
    v = {c.bytes, c.busy_s};
  };
  if (sws.count > 0) reg.add_family(std::move(sws));
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
  register_fabric_stats(reg, sim);
}

}  // namespace llmsim
