// Per-request results and the summary statistics of the contract's `inference` block.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/engine/workload.h"
#include "sim/traces/request.h"

namespace llmsim {

struct RequestResult {
  bool rejected = false;
  bool done = false;
  Seconds first_token = -1;
  Seconds finish = -1;
};

// {mean, p50, p90, p99, max}; percentiles by linear interpolation between order
// statistics (numpy's default), so they are exact and reproducible.
Json distribution(std::vector<double> v);

// The `inference` block. `energy_j` is the devices' total energy over the run.
Json inference_summary(const std::vector<Request>& reqs, const std::vector<RequestResult>& res, Joules energy_j);

// requests.csv content (contract columns, then `status`).
std::string requests_csv(const std::vector<Request>& reqs, const std::vector<RequestResult>& res);

}  // namespace llmsim
