// `llmsim plan` with a training service (issue 15 item 2). Enumerates, per system,
// devices x dtype x tp x pp x cp x ep x micro-batch x global batch x schedule x ZeRO x
// recompute; every point is first parsed as the `kind: training` workload it would run
// (what the workload refuses is not a configuration), then pruned without simulating:
// memory fit with the `fit --training` arithmetic (sim/workloads/training/memory.h), then
// the 6ND / peak throughput bound against the deadline or budget. scripts/plan_training.py
// simulates the survivors through the sweep runner and writes plan.csv / plan.md
// (docs/plan.md).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/cli/plan_service.h"
#include "sim/cli/plan_training.h"
#include "sim/core/params.h"
#include "sim/llm/fit.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/memory.h"

namespace llmsim {
namespace {

using Json = nlohmann::ordered_json;
const double kGiB = 1024.0 * 1024 * 1024;

std::vector<std::int64_t> powers_upto(std::int64_t n) {
  std::vector<std::int64_t> v;
  for (std::int64_t x = 1; x <= n; x *= 2) v.push_back(x);
  return v;
}

// Model FLOPs per trained token that any configuration must execute: 6 per GEMM weight
// (forward 2, backward 4; Kaplan et al. 2020's 6ND), the input embedding excluded (a
// lookup, not a GEMM); full recompute runs every layer's forward again (+2 per layer
// weight). Attention scores, norms and communication only add time, so
// devices x peak / this is an upper bound on tokens per second.
double flops_per_token(const ModelSpec& m, const std::string& recompute) {
  const double gemm = m.active_params() - m.embedding_params();
  const double layers = gemm - m.lm_head_params();
  return 6.0 * gemm + (recompute == "full" ? 2.0 * layers : 0.0);
}

struct Point {
  std::int64_t devices, tp, pp, cp, ep, micro_batch, zero;
  std::string dtype, schedule, recompute;
  std::int64_t global_batch = 0;  // sequences per step; 0 = the service's
};

// The `kind: training` document of one point (what the runs get through --set).
std::string point_workload(const TrainingService& s, const Point& p) {
  const std::int64_t dp = p.devices / (p.tp * p.cp * p.pp);
  const bool interleaved = p.schedule == "interleaved-1f1b";
  char text[1024];
  std::snprintf(text, sizeof text,
                "kind: training\nmodel: %s\ndtype: %s\nseq_len: %lld\nglobal_batch: %lld\nmicro_batch: %lld\n"
                "steps: %lld\nparallelism: {tp: %lld, pp: %lld, dp: %lld, cp: %lld, ep: %lld, sequence_parallel: %s, "
                "schedule: %s, virtual_stages: %lld, zero: %lld, recompute: %s}\n",
                s.model_ref.c_str(), p.dtype.c_str(), static_cast<long long>(s.seq_len),
                static_cast<long long>(p.global_batch > 0 ? p.global_batch : s.global_batch),
                static_cast<long long>(p.micro_batch), static_cast<long long>(s.search.steps),
                static_cast<long long>(p.tp), static_cast<long long>(p.pp), static_cast<long long>(dp),
                static_cast<long long>(p.cp), static_cast<long long>(p.ep), p.tp > 1 ? "true" : "false",
                p.schedule.c_str(), static_cast<long long>(interleaved ? s.search.virtual_stages : 1),
                static_cast<long long>(p.zero), p.recompute.c_str());
  return text;
}

Json point_json(const TrainingService& s, const PlanSystem& sys, const Point& p) {
  return Json{{"system", sys.name},
              {"devices", p.devices},
              {"dtype", p.dtype},
              {"tp", p.tp},
              {"pp", p.pp},
              {"cp", p.cp},
              {"dp", p.devices / (p.tp * p.cp * p.pp)},
              {"ep", p.ep},
              {"micro_batch", p.micro_batch},
              {"global_batch", p.global_batch > 0 ? p.global_batch : s.global_batch},
              {"schedule", p.schedule},
              {"zero", p.zero},
              {"recompute", p.recompute},
              {"pruned", ""}};
}

// Memory fit, then the bound; "" when the point survives (c["pruned"] says why not).
void judge_point(const TrainingService& s, const PlanSystem& sys, const ChipSpec& chip, const Point& p, Json& c) {
  TrainingConfig cfg;
  try {
    Topology none;  // dp is given explicitly
    cfg = parse_training(parse_doc(point_workload(s, p), "candidate"), none);
  } catch (const InputError& e) {
    c["pruned"] = std::string("invalid: ") + e.what();
    return;
  }
  c["virtual_stages"] = cfg.par.virtual_stages;
  const auto stages = training_memory(cfg);
  const StageMemory& worst = *std::max_element(
      stages.begin(), stages.end(), [](const StageMemory& a, const StageMemory& b) { return a.total() < b.total(); });
  const double usable = chip.main_tier().capacity * (1 - cfg.memory_reserve);
  c["memory_gib"] = worst.total() / kGiB;
  c["memory_usable_gib"] = usable / kGiB;
  const double bound =
      static_cast<double>(p.devices) * chip.compute.peak.at(p.dtype) / flops_per_token(s.model, p.recompute);
  const double t_lb = s.tokens / bound, cost_lb = static_cast<double>(p.devices) * sys.price * t_lb / 3600.0;
  c["bound_tokens_per_s"] = bound;
  c["time_lb_s"] = t_lb;
  c["cost_lb"] = cost_lb;
  char why[256];
  if (worst.total() > usable) {
    std::snprintf(why, sizeof why, "memory: stage %lld needs %.1f GiB > %.1f GiB usable (%s)",
                  static_cast<long long>(worst.stage), worst.total() / kGiB, usable / kGiB,
                  memory_breakdown(worst).c_str());
    c["pruned"] = why;
  } else if (s.deadline_s > 0 && t_lb > s.deadline_s) {
    std::snprintf(why, sizeof why,
                  "bound: at most %.4g tokens/s (devices x peak / 6ND), %.1f days > deadline %.1f days", bound,
                  t_lb / 86400, s.deadline_s / 86400);
    c["pruned"] = why;
  } else if (s.budget > 0 && cost_lb > s.budget) {
    std::snprintf(why, sizeof why, "bound: at least %.4g (devices x price x tokens / bound) > budget %.4g", cost_lb,
                  s.budget);
    c["pruned"] = why;
  }
}

void enumerate_system(const TrainingService& s, const PlanSystem& sys, const ChipSpec& chip, Json& out) {
  const TrainingSearch& g = s.search;
  std::vector<std::int64_t> counts = g.devices.empty() ? std::vector<std::int64_t>{sys.devices} : g.devices;
  for (std::int64_t n : counts) {
    for (const auto& dtype : s.dtypes) {
      Point base{n, 1, 1, 1, 1, 1, 0, dtype, "", ""};
      if (n > sys.devices || (n < sys.devices && !sys.resizable)) {
        Json c = point_json(s, sys, base);
        c["pruned"] = "devices: " + std::to_string(n) + (n > sys.devices ? " > the system's " : " of the system's ") +
                      std::to_string(sys.devices) + (n > sys.devices ? "" : " (its fabric is run whole)");
        out.push_back(c);
        continue;
      }
      if (!chip.compute.supports(dtype)) {
        Json c = point_json(s, sys, base);
        c["pruned"] = "dtype: " + chip.name + " does not run " + dtype;
        out.push_back(c);
        continue;
      }
      for (std::int64_t tp : g.tp.empty() ? powers_upto(n) : g.tp)
        for (std::int64_t pp : g.pp.empty() ? powers_upto(n) : g.pp)
          for (std::int64_t cp : g.cp) {
            if (n % (tp * pp * cp) != 0) continue;  // dp = devices / (tp x cp x pp) must be whole
            for (std::int64_t ep : g.ep)
              for (std::int64_t mb : g.micro_batch)
                for (std::int64_t gb :
                     g.global_batch.empty() ? std::vector<std::int64_t>{s.global_batch} : g.global_batch)
                  for (const auto& sched : g.schedule)
                    for (std::int64_t zero : g.zero)
                      for (const auto& rc : g.recompute) {
                        Point p{n, tp, pp, cp, ep, mb, zero, dtype, sched, rc, gb};
                        Json c = point_json(s, sys, p);
                        judge_point(s, sys, chip, p, c);
                        out.push_back(c);
                      }
          }
    }
  }
}

// The workload every point runs; --set varies its parallelism, dtype and micro-batch.
std::string base_workload(const TrainingService& s) {
  Point p{1, 1, 1, 1, 1, 1, 0, s.dtypes.front(), "1f1b", "none"};
  return "# Written by llmsim plan: the training service as a workload (points vary it by --set).\n" +
         point_workload(s, p);
}

}  // namespace

int cmd_plan_training(const PlanArgs& args, const Doc& service_doc, std::ostream& out) {
  TrainingService s = load_training_service(service_doc);
  ChipCatalog catalog(default_catalog_dir());
  const bool example = args.prices.empty();
  Prices prices = load_prices(example ? project_root() + "/prices/example.yaml" : args.prices, catalog);
  Json systems = Json::array(), cands = Json::array();
  for (const auto& t : args.topologies) {
    PlanSystem sys = load_plan_system(t, catalog, prices);
    for (const auto& o : systems)
      if (o["name"] == sys.name) throw InputError({t, 0, 0}, "system '" + sys.name + "' is given twice");
    systems.push_back(plan_system_json(sys, catalog.get(sys.chip)));
    if (sys.pruned.empty()) enumerate_system(s, sys, catalog.get(sys.chip), cands);
  }
  Json space;
  space["mode"] = "training";
  space["service"] = {{"file", s.file},
                      {"model", s.model.name},
                      {"dtypes", s.dtypes},
                      {"tokens", s.tokens},
                      {"seq_len", s.seq_len},
                      {"global_batch", s.global_batch},
                      {"steps", s.search.steps},
                      {"virtual_stages", s.search.virtual_stages},
                      {"deadline_s", s.deadline_s > 0 ? Json(s.deadline_s) : Json()},
                      {"budget", s.budget > 0 ? Json(s.budget) : Json()}};
  const std::size_t alive = write_plan_space(args, space, prices, example, systems, cands, "training-workload.yaml",
                                             base_workload(s));
  out << "plan: training " << s.model.name << " on " << resolved_number(s.tokens) << " tokens, " << systems.size()
      << " system(s): " << cands.size() << " candidates, " << alive << " left after the memory fit and the bound"
      << (example ? "; prices: the shipped example (prices/example.yaml), pass --prices for yours" : "") << "\n";
  out.flush();
  return run_plan_driver(args, args.outdir);
}

}  // namespace llmsim
