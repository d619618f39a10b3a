// `llmsim plan` inputs (issue 15): the `kind: service` document (model, allowed dtypes,
// traffic, targets, search space) and the prices file. Parsed once, strictly, with
// positioned errors; the declarations live in plan_params.cpp.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/core/yaml_doc.h"
#include "sim/llm/model.h"
#include "sim/spec/chip.h"
#include "sim/traces/request.h"

namespace llmsim {

// Targets; < 0 = not given. Latencies in seconds, attainment a fraction in (0, 1].
struct ServiceTargets {
  double ttft_p99 = -1, tpot_p99 = -1, tpot_mean = -1, e2e_p99 = -1, attainment = -1;
};

// What the search may vary (each list is tried whole; empty tp / pp = powers of two).
struct ServiceSearch {
  std::vector<std::int64_t> tp, pp;
  std::vector<std::int64_t> max_batch{256}, max_batched_tokens{8192};
  std::vector<bool> chunked_prefill{true};
  std::vector<double> prefill_share{0.0};  // disaggregation: share of replicas that only prefill
  std::int64_t bisection_steps = 6;
  double min_load = 1.0 / 16.0;  // lowest load multiple bisected for a config failing at 1
};

struct Service {
  std::string file, model_ref;
  ModelSpec model;
  std::vector<std::string> dtypes;
  bool use_trace = false;
  TraceOptions trace;
  SyntheticSpec synthetic;
  YAML::Node traffic;  // the `trace:` / `requests:` block as loaded (file made absolute)
  ServiceTargets targets;
  ServiceSearch search;
  // The traffic as measured: requests, their rate, their mean token counts.
  std::int64_t requests = 0;
  double demand_rps = 0, mean_prompt = 0, mean_output = 0;
};

Service load_service(const std::string& path);

// A chip's price per device-hour: a list price, or capex + power as total cost of ownership.
struct ChipPrice {
  double per_device_hour = 0;
  std::string how;  // "list" | "tco"
  std::string date, source;
  SourcePos pos;
};

struct Prices {
  std::string file, currency = "USD";
  std::map<std::string, ChipPrice> chips;  // by catalog chip name
};

// Unknown chips, non-positive prices, missing dates or sources: InputError at the entry.
Prices load_prices(const std::string& path, ChipCatalog& catalog);

// One system of a plan: a topology of one chip kind, its devices and its price.
struct PlanSystem {
  std::string name, topology, chip;
  std::int64_t devices = 0;
  bool resizable = false;  // a top-level `count:` (no `nodes:`): fewer devices by --set
  double price = 0;        // per device-hour
  std::string price_how, price_source, price_date, pruned;
};
// Loads the topology (InputError at it); a chip without a price is `pruned`, not an error.
PlanSystem load_plan_system(const std::string& path, ChipCatalog& catalog, const Prices& prices);

// The system's entry of plan_space.json (serving and training plans), with the chip's
// validation note (chip_validation.h) for plan.md's `model check` column.
nlohmann::ordered_json plan_system_json(const PlanSystem& sys, const ChipSpec& chip);

struct PlanArgs;
// Completes plan_space.json (prices, systems, candidates), creates -o, writes it and the
// base workload there; returns the candidates left unpruned (serving and training plans).
std::size_t write_plan_space(const PlanArgs& args, nlohmann::ordered_json& space, const Prices& prices, bool example,
                             const nlohmann::ordered_json& systems, const nlohmann::ordered_json& cands,
                             const std::string& workload_name, const std::string& workload_yaml);
// Runs scripts/plan_search.py on DIR (the simulating half; serving and training plans).
int run_plan_driver(const PlanArgs& args, const std::string& outdir);

}  // namespace llmsim
