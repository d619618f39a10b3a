// Per-request results and the summary statistics of the contract's `inference` block.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/engine/workload.h"
#include "sim/traces/request.h"
#include "sim/workloads/inference/scheduler.h"

namespace llmsim {

struct RequestResult {
  bool rejected = false;
  bool done = false;
  Seconds first_token = -1;
  Seconds finish = -1;
  std::int64_t replica = -1;      // picked by the router at arrival (the prefill replica if disaggregated)
  Seconds admitted = -1;          // first admission into a batch (its prefill starts)
  std::int64_t preemptions = 0;   // times preempted (recompute or swap)
  std::int64_t cached_tokens = 0; // prompt tokens found in the prefix cache at first admission
  std::int64_t retries = 0;       // times its replica failed under it and it was routed again
  Seconds retry_lost_s = 0;       // time spent on the failed attempts (routed there -> failure)
};

// Inter-token latencies as {gap in ps: tokens}: a run emits one token per running sequence
// per iteration, so the distinct gaps are few next to the tokens (bounded memory, exact
// percentiles).
using LatencyCounts = std::map<SimTime, std::int64_t>;

// Latency SLOs; < 0 = no bound on that metric.
struct SloTargets {
  Seconds ttft = -1, tpot = -1;
};

// Early stop (slo.stop_below_attainment, issue 15): counts the requests that can no longer
// meet both bounds (rejected, first token past the TTFT bound, TPOT past its bound at
// completion). Once more than (1 - attainment) of all requests missed, the attainment over
// all requests can no longer be reached whatever the rest do, so the run may stop there.
class SloWatch {
 public:
  SloWatch() = default;
  SloWatch(const SloTargets& slo, double attainment, std::size_t requests);
  void rejected(std::size_t q) { miss(q); }
  void first_token(std::size_t q, Seconds ttft) {
    if (slo_.ttft >= 0 && ttft > slo_.ttft) miss(q);
  }
  void done(std::size_t q, Seconds tpot) {
    if (slo_.tpot >= 0 && tpot > slo_.tpot) miss(q);
  }
  // True (with the arithmetic in `why`) once the target is out of reach.
  bool unmeetable(std::string& why) const;

 private:
  void miss(std::size_t q);
  SloTargets slo_;
  double attainment_ = -1;  // < 0: never stop
  std::vector<char> missed_;
  std::int64_t misses_ = 0, allowed_ = 0;
};

// {mean, p50, p90, p95, p99, max}; percentiles by linear interpolation between order
// statistics (numpy's default), so they are exact and reproducible.
Json distribution(std::vector<double> v);
// The same over a multiset given as counts (values in ps, reported in seconds).
Json distribution(const LatencyCounts& counts);

// The `inference` block. `energy_j` is the devices' total energy over the run; `itl` the
// inter-token latencies; `slo` (optional) adds the `slo` block.
Json inference_summary(const std::vector<Request>& reqs, const std::vector<RequestResult>& res, Joules energy_j,
                       const LatencyCounts& itl, const SloTargets* slo);

// requests.csv content (contract columns, then `status`, then the per-request detail:
// replica, queue_s, prefill_s, decode_s, preemptions, cached_tokens).
// The `prefix_cache` block: block and token hit rates and the prefill tokens saved, over
// the first admissions of all replicas.
Json prefix_cache_summary(const std::vector<const ReplicaScheduler*>& replicas, std::int64_t block_tokens);

std::string requests_csv(const std::vector<Request>& reqs, const std::vector<RequestResult>& res);

}  // namespace llmsim
