#include "sim/workloads/inference/metrics.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace llmsim {

Json distribution(std::vector<double> v) {
  Json j;
  if (v.empty()) {
    for (const char* k : {"mean", "p50", "p90", "p99", "max"}) j[k] = 0.0;
    return j;
  }
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  auto pct = [&](double p) {
    double pos = p * static_cast<double>(v.size() - 1);
    std::size_t lo = static_cast<std::size_t>(pos);
    std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  };
  j["mean"] = sum / static_cast<double>(v.size());
  j["p50"] = pct(0.50);
  j["p90"] = pct(0.90);
  j["p99"] = pct(0.99);
  j["max"] = v.back();
  return j;
}

Json inference_summary(const std::vector<Request>& reqs, const std::vector<RequestResult>& res, Joules energy_j) {
  std::vector<double> ttft, tpot, e2e;
  std::int64_t completed = 0, rejected = 0, out_tokens = 0, all_tokens = 0;
  double first_arrival = reqs.empty() ? 0 : reqs.front().arrival, last_finish = first_arrival;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto& q = reqs[i];
    const auto& r = res[i];
    if (r.rejected) ++rejected;
    if (!r.done) continue;
    ++completed;
    out_tokens += q.output_tokens;
    all_tokens += q.prompt_tokens + q.output_tokens;
    ttft.push_back(r.first_token - q.arrival);
    e2e.push_back(r.finish - q.arrival);
    // TPOT: time per output token after the first (requests with one output token have none).
    if (q.output_tokens > 1) tpot.push_back((r.finish - r.first_token) / static_cast<double>(q.output_tokens - 1));
    last_finish = std::max(last_finish, r.finish);
  }
  double span = last_finish - first_arrival;
  Json j;
  j["requests"] = reqs.size();
  j["completed"] = completed;
  j["rejected"] = rejected;
  j["ttft_s"] = distribution(ttft);
  j["tpot_s"] = distribution(tpot);
  j["e2e_s"] = distribution(e2e);
  j["output_tokens"] = out_tokens;
  j["output_tokens_per_s"] = span > 0 ? static_cast<double>(out_tokens) / span : 0.0;
  j["total_tokens_per_s"] = span > 0 ? static_cast<double>(all_tokens) / span : 0.0;
  j["j_per_output_token"] = out_tokens > 0 ? energy_j / static_cast<double>(out_tokens) : 0.0;
  return j;
}

std::string requests_csv(const std::vector<Request>& reqs, const std::vector<RequestResult>& res) {
  std::string out = "id,arrival_s,prompt_tokens,output_tokens,first_token_s,finish_s,ttft_s,tpot_s,e2e_s,status\n";
  char buf[320];
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto& q = reqs[i];
    const auto& r = res[i];
    if (!r.done) {
      std::snprintf(buf, sizeof buf, "%llu,%.9f,%lld,%lld,,,,,,%s\n", static_cast<unsigned long long>(q.id), q.arrival,
                    static_cast<long long>(q.prompt_tokens), static_cast<long long>(q.output_tokens),
                    r.rejected ? "rejected" : "unfinished");
    } else {
      double tpot = q.output_tokens > 1 ? (r.finish - r.first_token) / static_cast<double>(q.output_tokens - 1) : 0.0;
      std::snprintf(buf, sizeof buf, "%llu,%.9f,%lld,%lld,%.9f,%.9f,%.9f,%.9f,%.9f,completed\n",
                    static_cast<unsigned long long>(q.id), q.arrival, static_cast<long long>(q.prompt_tokens),
                    static_cast<long long>(q.output_tokens), r.first_token, r.finish, r.first_token - q.arrival, tpot,
                    r.finish - q.arrival);
    }
    out += buf;
  }
  return out;
}

}  // namespace llmsim
