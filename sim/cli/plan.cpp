// `llmsim plan` (issue 15): the cheapest system and configuration meeting a service's
// targets. This file enumerates the search space per system and prunes it without
// simulating (memory fit, then the roofline throughput bound; docs/plan.md gives both
// formulas); it writes DIR/plan_space.json and DIR/service-workload.yaml and hands them to
// scripts/plan_search.py, which simulates the survivors through the sweep runner (one
// `llmsim run` child per point: SystemC elaborates once per process) and writes plan.csv
// and plan.md.
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <fstream>

#include "sim/cli/commands.h"
#include "sim/cli/plan_service.h"
#include "sim/cli/plan_training.h"
#include "sim/core/paths.h"
#include "sim/llm/fit.h"
#include "sim/output/atomic_file.h"
#include "sim/spec/chip_validation.h"
#include "sim/topo/topology.h"

extern char** environ;

namespace llmsim {
namespace {

using Json = nlohmann::ordered_json;

std::vector<std::int64_t> powers_of_two_upto(std::int64_t n) {
  std::vector<std::int64_t> v;
  for (std::int64_t x = 1; x <= n; x *= 2) v.push_back(x);
  return v;
}

// The shapes parse_inference accepts (config.cpp); other tp / pp are not configurations.
bool valid_shape(const ModelSpec& m, std::int64_t tp, std::int64_t pp) {
  if (m.kv_heads % tp != 0 || m.heads % tp != 0 || m.hidden % tp != 0) return false;
  if (m.moe() && m.experts % tp != 0 && tp % m.experts != 0) return false;
  return pp <= m.layers;
}

// Roofline upper bound on one replica's request rate over the traffic's token mix:
// compute: g x peak / (2 x active params x (prompt + output)) -- every token passes every
//          weight once (2 FLOP per multiply-add), attention and overheads only add work;
// memory:  max_batch x g x bw / (weight bytes x (output - 1)) -- an iteration reads every
//          weight once and decodes at most max_batch tokens.
// g = tp x pp chips, peak = the chip's dense peak for the dtype, bw = its fastest tier.
double roofline_rps(const Service& s, const ChipSpec& chip, const std::string& dtype, std::int64_t g,
                    std::int64_t max_batch) {
  double peak = chip.compute.peak.at(dtype), bw = 0;
  for (const auto& t : chip.memory) bw = std::max(bw, t.bandwidth.value());
  double gd = static_cast<double>(g);
  double compute = gd * peak / (2.0 * s.model.active_params() * (s.mean_prompt + s.mean_output));
  double decode = s.mean_output - 1.0;
  if (!(decode > 0) || !(bw > 0)) return compute;
  double memory = static_cast<double>(max_batch) * gd * bw / (s.model.params() * dtype_bytes(dtype) * decode);
  return std::min(compute, memory);
}

using System = PlanSystem;

Json candidate(const System& sys, std::int64_t tp, std::int64_t pp, const std::string& dtype) {
  Json c;
  c["system"] = sys.name;
  c["tp"] = tp;
  c["pp"] = pp;
  c["dtype"] = dtype;
  return c;
}

// Every candidate of one system: pruned ones carry the reason, survivors their replica range.
void enumerate(const Service& s, const System& sys, const ChipSpec& chip, Json& out) {
  const ServiceSearch& g = s.search;
  std::vector<std::int64_t> tps = g.tp.empty() ? powers_of_two_upto(sys.devices) : g.tp;
  std::vector<std::int64_t> pps = g.pp.empty() ? powers_of_two_upto(sys.devices) : g.pp;
  double weight_cap = 0;
  if (const MemoryTierSpec* w = chip.tier(chip.placement.weights)) weight_cap = w->capacity;
  for (const auto& dtype : s.dtypes) {
    for (std::int64_t tp : tps) {
      for (std::int64_t pp : pps) {
        const std::int64_t per = tp * pp;
        if (per > sys.devices || !valid_shape(s.model, tp, pp)) continue;
        if (!sys.resizable && sys.devices % per != 0) continue;
        Json base = candidate(sys, tp, pp, dtype);
        if (!chip.compute.supports(dtype)) {
          base["pruned"] = "dtype: " + chip.name + " does not run " + dtype;
          out.push_back(base);
          continue;
        }
        // Memory fit without overheads (a bound the simulator can only tighten): the
        // weights alone on tp x pp chips.
        double weights = s.model.params() * dtype_bytes(dtype);
        if (weights > static_cast<double>(per) * weight_cap) {
          base["pruned"] = "memory: weights " + format_bytes_human(weights) + " > tp x pp x " +
                           format_bytes_human(weight_cap) + " = " + format_bytes_human(per * weight_cap);
          out.push_back(base);
          continue;
        }
        for (std::int64_t mb : g.max_batch)
          for (std::int64_t mbt : g.max_batched_tokens)
            for (bool chunked : g.chunked_prefill)
              for (double share : g.prefill_share) {
                if (mbt < mb) continue;  // vLLM refuses max_num_batched_tokens < max_num_seqs
                Json c = base;
                c["max_batch"] = mb;
                c["max_batched_tokens"] = mbt;
                c["chunked_prefill"] = chunked;
                c["prefill_share"] = share;
                double bound = roofline_rps(s, chip, dtype, per, mb);
                std::int64_t r_max = sys.devices / per, r_min = 1;
                if (sys.resizable)
                  r_min = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(s.demand_rps / bound - 1e-9)));
                else r_min = r_max;
                if (share > 0) r_min = std::max<std::int64_t>(r_min, 2);  // one prefill + one decode replica
                c["bound_rps_per_replica"] = bound;
                c["min_replicas"] = r_min;
                c["max_replicas"] = r_max;
                if (share > 0 && r_max < 2) {
                  c["pruned"] = "disaggregation: needs 2 replicas, the system holds " + std::to_string(r_max);
                } else if (r_min > r_max) {
                  c["pruned"] = "roofline: " + std::to_string(r_max) + " replicas x " + resolved_number(bound) +
                                " req/s bound < demand " + resolved_number(s.demand_rps) + " req/s";
                } else {
                  c["pruned"] = "";
                }
                out.push_back(c);
              }
      }
    }
  }
}

std::string yaml_text(const YAML::Node& n) {
  YAML::Emitter e;
  e << n;
  return e.c_str();
}

// The `kind: inference` document every point runs; the point's --set values vary it.
std::string service_workload(const Service& s) {
  YAML::Node w;
  w["kind"] = "inference";
  w["name"] = "plan";
  w["model"] = s.model_ref;
  w["dtype"] = s.dtypes.front();
  w["router"] = "least-loaded";
  for (auto it = s.traffic.begin(); it != s.traffic.end(); ++it) w[it->first.as<std::string>()] = it->second;
  const ServiceTargets& t = s.targets;
  YAML::Node slo;
  if (t.ttft_p99 > 0) slo["ttft"] = resolved_number(t.ttft_p99) + " s";
  if (t.tpot_p99 > 0) slo["tpot"] = resolved_number(t.tpot_p99) + " s";
  // Early stop: only where "more than (1 - a) of all requests missed" settles the verdict:
  // an attainment target, or a single per-request p99 bound (one miss of slack for the
  // percentile's interpolation).
  bool one_bound = (t.ttft_p99 > 0) != (t.tpot_p99 > 0);
  double stop = t.attainment > 0 ? t.attainment : (one_bound ? 0.99 - 1.0 / static_cast<double>(s.requests) : -1);
  if (stop > 0) slo["stop_below_attainment"] = resolved_number(stop);
  if (slo.size() > 0) w["slo"] = slo;
  return "# Written by llmsim plan: the service as a serving workload (points vary it by --set).\n" + yaml_text(w) +
         "\n";
}

Json targets_json(const ServiceTargets& t) {
  Json j;
  auto put = [&](const char* k, double v) { j[k] = v > 0 ? Json(v) : Json(); };
  put("ttft_p99", t.ttft_p99);
  put("tpot_p99", t.tpot_p99);
  put("tpot_mean", t.tpot_mean);
  put("e2e_p99", t.e2e_p99);
  put("attainment", t.attainment);
  return j;
}

}  // namespace

PlanSystem load_plan_system(const std::string& path, ChipCatalog& catalog, const Prices& prices) {
  PlanSystem sys;
  Doc doc = load_doc(path);
  Topology topo = load_topology(doc, catalog);
  sys.topology = real_path_or_given(path);
  sys.name = topo.name.empty() ? path : topo.name;
  sys.devices = topo.num_devices();
  if (sys.devices == 0) throw InputError({path, 0, 0}, "topology has no devices: nothing to plan on");
  sys.chip = topo.device_chip[0]->name;
  for (const auto* c : topo.device_chip)
    if (c->name != sys.chip)
      throw InputError({path, 0, 0},
                       "plan needs one chip kind per system (found " + sys.chip + " and " + c->name + ")");
  // Fewer devices by --set topology.count only where the fabric's shape follows the count
  // (switch, fully-connected, ring); torus / mesh dims and explicit links are run whole.
  sys.resizable = doc.root["count"] && !doc.root["nodes"];
  if (YAML::Node fabrics = doc.root["fabrics"]) {
    for (const auto& fab : fabrics) {
      std::string shape = fab["shape"] ? fab["shape"].as<std::string>() : "";
      if (fab["dims"] || (shape != "switch" && shape != "fully-connected" && shape != "ring")) sys.resizable = false;
    }
  }
  auto it = prices.chips.find(sys.chip);
  if (it == prices.chips.end()) {
    sys.pruned = "no price for " + sys.chip + " in " + prices.file;
  } else {
    sys.price = it->second.per_device_hour;
    sys.price_how = it->second.how;
    sys.price_source = it->second.source;
    sys.price_date = it->second.date;
  }
  return sys;
}

nlohmann::ordered_json plan_system_json(const PlanSystem& sys, const ChipSpec& chip) {
  return {{"name", sys.name},           {"topology", sys.topology},           {"chip", sys.chip},
          {"devices", sys.devices},     {"resizable", sys.resizable},         {"price_per_device_hour", sys.price},
          {"price_how", sys.price_how}, {"price_source", sys.price_source},   {"price_date", sys.price_date},
          {"pruned", sys.pruned},       {"validation", validation_note(chip)}};
}

std::size_t write_plan_space(const PlanArgs& args, nlohmann::ordered_json& space, const Prices& prices, bool example,
                             const nlohmann::ordered_json& systems, const nlohmann::ordered_json& cands,
                             const std::string& workload_name, const std::string& workload_yaml) {
  space["prices"] = {{"file", prices.file}, {"example", example}, {"currency", prices.currency}};
  space["systems"] = systems;
  space["candidates"] = cands;
  ::mkdir(args.outdir.c_str(), 0777);
  struct stat st {};
  if (::stat(args.outdir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw InputError({"-o", 0, 0}, "cannot create the output folder '" + args.outdir + "'");
  }
  write_file_atomic(args.outdir + "/" + workload_name, workload_yaml);
  write_file_atomic(args.outdir + "/plan_space.json", space.dump(2) + "\n");
  std::size_t alive = 0;
  for (const auto& c : cands) alive += c["pruned"].get<std::string>().empty();
  return alive;
}

int run_plan_driver(const PlanArgs& args, const std::string& outdir) {
  std::string script = project_root() + "/scripts/plan_search.py";
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string exe = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : "llmsim";
  std::vector<std::string> argv_s = {"python3", script, outdir, "-j", std::to_string(args.jobs), "--llmsim", exe};
  if (args.slurm) argv_s.push_back("--slurm");
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, "python3", nullptr, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("cannot start python3 (scripts/plan_search.py needs Python 3)");
  }
  // Ctrl-C reaches the driver (same process group); it stops its runs and exits 130.
  struct sigaction ign {
  }, old_int{};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ign, &old_int);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  sigaction(SIGINT, &old_int, nullptr);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

int cmd_plan(const PlanArgs& args, std::ostream& out) {
  if (args.service.empty()) throw InputError({"-w", 0, 0}, "a service file is required (-w SERVICE.yaml)");
  if (args.topologies.empty()) throw InputError({"-t", 0, 0}, "at least one system is required (-t SYSTEM.yaml)");
  if (args.outdir.empty()) throw InputError({"-o", 0, 0}, "an output folder is required (-o DIR)");
  {
    // A training service (kind: training-service) is planned by plan_training.cpp.
    Doc doc = load_doc(args.service);
    YAML::Node kind = doc.root["kind"];
    if (kind && kind.IsScalar() && kind.Scalar() == "training-service") return cmd_plan_training(args, doc, out);
  }
  Service s = load_service(args.service);
  ChipCatalog catalog(default_catalog_dir());
  const bool example = args.prices.empty();
  Prices prices = load_prices(example ? project_root() + "/prices/example.yaml" : args.prices, catalog);
  Json space, systems = Json::array(), cands = Json::array();
  for (const auto& t : args.topologies) {
    System sys = load_plan_system(t, catalog, prices);
    Json js = plan_system_json(sys, catalog.get(sys.chip));
    for (const auto& o : systems)
      if (o["name"] == sys.name) throw InputError({t, 0, 0}, "system '" + sys.name + "' is given twice");
    systems.push_back(js);
    if (sys.pruned.empty()) enumerate(s, sys, catalog.get(sys.chip), cands);
  }
  space["service"] = {{"file", s.file},
                      {"model", s.model.name},
                      {"dtypes", s.dtypes},
                      {"requests", s.requests},
                      {"demand_rps", s.demand_rps},
                      {"mean_prompt_tokens", s.mean_prompt},
                      {"mean_output_tokens", s.mean_output},
                      {"targets", targets_json(s.targets)},
                      {"load_key", s.use_trace ? "workload.trace.time_scale" : "workload.requests.rate"},
                      {"base_time_scale", s.use_trace ? s.trace.time_scale : 1.0},
                      {"bisection_steps", s.search.bisection_steps},
                      {"min_load", s.search.min_load}};
  const std::size_t alive =
      write_plan_space(args, space, prices, example, systems, cands, "service-workload.yaml", service_workload(s));
  out << "plan: " << s.model.name << " at " << resolved_number(s.demand_rps) << " req/s on " << systems.size()
      << " system(s): " << cands.size() << " candidates, " << alive << " left after the memory and roofline bounds"
      << (example ? "; prices: the shipped example (prices/example.yaml), pass --prices for yours" : "") << "\n";
  out.flush();
  return run_plan_driver(args, args.outdir);
}

}  // namespace llmsim
