// The summary's `training` block from the per-stage times the executor recorded
// (docs/training.md "Outputs"): step times, MFU / HFU, throughput, memory, the pipeline
// bubble and where each step's time went.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/executor.h"
#include "sim/workloads/training/memory.h"

namespace llmsim {

struct TrainingReport {
  std::int64_t steps = 0;  // completed
  double step_min = 0, step_mean = 0, step_max = 0;
  double tokens_per_s = 0, mfu = 0, hfu = 0, tflops_per_device = 0, peak_flops = 0;
  double bubble = 0;  // pipeline_bubble_fraction: idle share of the forward/backward span
  // Shares of the mean step, averaged over stages (sum to 1).
  double compute = 0, exposed_comm = 0, bubble_time = 0, optimizer = 0, checkpoint = 0;
  StageMemory memory;  // worst stage
  bool has_data = false;  // `data:` given: packing statistics below
  DataStats data;
  double useful_tokens_per_s = 0;  // tokens_per_s less padding
};

TrainingReport training_report(const TrainingConfig& cfg, const ChipSpec& chip, const std::vector<StepRecord>& steps,
                               const DataStats* data = nullptr);
nlohmann::ordered_json training_json(const TrainingReport& r);
std::string training_paragraph(const TrainingConfig& cfg, const TrainingReport& r);

}  // namespace llmsim
