// `llmsim plan` for training (issue 15 item 2): the `kind: training-service` document
// (model, tokens to train, sequence length, global batch, a deadline and / or a budget,
// and the parallelism space) and the search that prunes it without simulating (memory
// fit with the `fit --training` arithmetic, then the 6ND / peak bound). Declarations in
// plan_params.cpp; docs/plan.md "Training plans".
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/core/yaml_doc.h"
#include "sim/llm/model.h"

namespace llmsim {

// What the training search varies; empty tp / pp = powers of two up to the devices,
// empty devices = each system whole, empty global_batch = the service's.
struct TrainingSearch {
  std::vector<std::int64_t> tp, pp, cp{1}, ep{1}, micro_batch{1}, zero{1}, devices, global_batch;
  std::vector<std::string> schedule{"1f1b"}, recompute{"none", "selective", "full"};
  std::int64_t virtual_stages = 2;  // model chunks per device when the schedule is interleaved-1f1b
  std::int64_t steps = 1;           // optimizer steps simulated per point
};

struct TrainingService {
  std::string file, model_ref;
  ModelSpec model;
  std::vector<std::string> dtypes;
  double tokens = 0;  // tokens to train
  std::int64_t seq_len = 0, global_batch = 0;
  double deadline_s = -1, budget = -1;  // < 0: not given
  TrainingSearch search;
};

TrainingService load_training_service(const Doc& doc);

// `llmsim plan` with a training service: enumerates, prunes, hands the survivors to
// scripts/plan_search.py (which simulates them and writes plan.csv / plan.md).
int cmd_plan_training(const PlanArgs& args, const Doc& service_doc, std::ostream& out);

}  // namespace llmsim
