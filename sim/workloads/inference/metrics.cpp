#include "sim/workloads/inference/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace llmsim {

namespace {

const char* const kStats[] = {"mean", "p50", "p90", "p95", "p99", "max"};
const double kPercentiles[] = {0.50, 0.90, 0.95, 0.99};

// Fills the block from n sorted values given by `at(k)` (the k-th smallest) and their mean.
template <class At>
Json fill(std::size_t n, double mean, At at) {
  Json j;
  if (n == 0) {
    for (const char* k : kStats) j[k] = 0.0;
    return j;
  }
  j["mean"] = mean;
  for (std::size_t i = 0; i < 4; ++i) {
    double pos = kPercentiles[i] * static_cast<double>(n - 1);
    std::size_t lo = static_cast<std::size_t>(pos);
    std::size_t hi = std::min(lo + 1, n - 1);
    double a = at(lo), b = at(hi);
    j[kStats[i + 1]] = a + (b - a) * (pos - static_cast<double>(lo));
  }
  j["max"] = at(n - 1);
  return j;
}

}  // namespace

Json distribution(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  return fill(v.size(), v.empty() ? 0.0 : sum / static_cast<double>(v.size()), [&](std::size_t k) { return v[k]; });
}

Json distribution(const LatencyCounts& counts) {
  // Cumulative counts: the k-th smallest value is the first entry whose cumulative count
  // exceeds k.
  std::vector<std::pair<std::int64_t, SimTime>> cum;
  std::int64_t n = 0;
  long double sum = 0;  // picoseconds; may pass 2^63 over a long run
  for (const auto& [ps, c] : counts) {
    n += c;
    sum += static_cast<long double>(ps) * static_cast<long double>(c);
    cum.emplace_back(n, ps);
  }
  auto at = [&](std::size_t k) {
    auto it = std::upper_bound(cum.begin(), cum.end(), static_cast<std::int64_t>(k),
                               [](std::int64_t x, const std::pair<std::int64_t, SimTime>& e) { return x < e.first; });
    return to_seconds(it->second);
  };
  double mean = n > 0 ? static_cast<double>(sum / static_cast<long double>(n)) / static_cast<double>(kPsPerSecond) : 0.0;
  return fill(static_cast<std::size_t>(n), mean, at);
}

Json inference_summary(const std::vector<Request>& reqs, const std::vector<RequestResult>& res, Joules energy_j,
                       const LatencyCounts& itl, const SloTargets* slo) {
  std::vector<double> ttft, tpot, e2e;
  std::int64_t completed = 0, rejected = 0, out_tokens = 0, all_tokens = 0;
  // SLO: requests meeting the TTFT bound, the TPOT bound, both; output tokens of the latter.
  std::int64_t ttft_ok = 0, tpot_ok = 0, good = 0, good_tokens = 0;
  double first_arrival = reqs.empty() ? Seconds{0} : reqs.front().arrival, last_finish = first_arrival;
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
    // The same expression as requests.csv's tpot_s (0 there for one output token).
    double t = q.output_tokens > 1 ? (r.finish - r.first_token) / static_cast<double>(q.output_tokens - 1) : Seconds{0};
    if (q.output_tokens > 1) tpot.push_back(t);
    if (slo) {
      bool a = slo->ttft < 0 || ttft.back() <= slo->ttft, b = slo->tpot < 0 || t <= slo->tpot;
      ttft_ok += a;
      tpot_ok += b;
      if (a && b) {
        ++good;
        good_tokens += q.output_tokens;
      }
    }
    last_finish = std::max(last_finish, r.finish.value());
  }
  double span = last_finish - first_arrival;
  Json j;
  j["requests"] = reqs.size();
  j["completed"] = completed;
  j["rejected"] = rejected;
  j["ttft_s"] = distribution(ttft);
  j["tpot_s"] = distribution(tpot);
  j["e2e_s"] = distribution(e2e);
  j["itl_s"] = distribution(itl);
  j["output_tokens"] = out_tokens;
  j["output_tokens_per_s"] = span > 0 ? static_cast<double>(out_tokens) / span : 0.0;
  j["total_tokens_per_s"] = span > 0 ? static_cast<double>(all_tokens) / span : 0.0;
  j["j_per_output_token"] = out_tokens > 0 ? energy_j / static_cast<double>(out_tokens) : Joules{0};
  if (slo) {
    auto frac = [&](std::int64_t k) { return completed > 0 ? static_cast<double>(k) / static_cast<double>(completed) : 0.0; };
    auto rate = [&](std::int64_t k) { return span > 0 ? static_cast<double>(k) / span : 0.0; };
    Json s;
    s["ttft_s"] = slo->ttft < 0 ? Json() : Json(slo->ttft);
    s["tpot_s"] = slo->tpot < 0 ? Json() : Json(slo->tpot);
    s["ttft_attainment"] = frac(ttft_ok);
    s["tpot_attainment"] = frac(tpot_ok);
    s["attainment"] = frac(good);
    s["goodput_rps"] = rate(good);
    s["goodput_tokens_per_s"] = rate(good_tokens);
    j["slo"] = s;
  }
  return j;
}

Json prefix_cache_summary(const std::vector<const ReplicaScheduler*>& replicas, std::int64_t block_tokens) {
  ReplicaScheduler::PrefixStats t;
  std::int64_t entries = 0;
  for (const auto* r : replicas) {
    const auto& s = r->prefix_stats();
    t.blocks += s.blocks;
    t.hit_blocks += s.hit_blocks;
    t.prompt_tokens += s.prompt_tokens;
    t.cached_tokens += s.cached_tokens;
    if (r->prefix_cache()) entries += r->prefix_cache()->entries();
  }
  auto ratio = [](std::int64_t a, std::int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
  Json j;
  j["block_tokens"] = block_tokens;
  j["blocks_looked_up"] = t.blocks;
  j["block_hits"] = t.hit_blocks;
  j["block_hit_rate"] = ratio(t.hit_blocks, t.blocks);
  j["token_hit_rate"] = ratio(t.cached_tokens, t.prompt_tokens);
  j["prefill_tokens_saved"] = t.cached_tokens;
  j["entries_at_end"] = entries;
  return j;
}

SloWatch::SloWatch(const SloTargets& slo, double attainment, std::size_t requests)
    : slo_(slo), attainment_(attainment), missed_(requests, 0) {
  // Misses allowed: the largest k with (n - k) / n >= attainment (a hair of tolerance so
  // 0.99 x 100 does not round down on float noise).
  const double n = static_cast<double>(requests);
  allowed_ = static_cast<std::int64_t>(std::floor((1.0 - attainment) * n + 1e-9));
}

void SloWatch::miss(std::size_t q) {
  if (attainment_ < 0 || missed_[q]) return;
  missed_[q] = 1;
  ++misses_;
}

bool SloWatch::unmeetable(std::string& why) const {
  if (attainment_ < 0 || misses_ <= allowed_) return false;
  std::ostringstream s;
  s << "slo.stop_below_attainment: " << misses_ << " of " << missed_.size()
    << " requests missed the SLO bounds, more than the " << allowed_ << " that attainment " << attainment_ << " allows";
  why = s.str();
  return true;
}

std::string requests_csv(const std::vector<Request>& reqs, const std::vector<RequestResult>& res) {
  std::string out =
      "id,arrival_s,prompt_tokens,output_tokens,first_token_s,finish_s,ttft_s,tpot_s,e2e_s,status,"
      "replica,queue_s,prefill_s,decode_s,preemptions,cached_tokens,retries,retry_lost_s\n";
  char buf[480];
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto& q = reqs[i];
    const auto& r = res[i];
    if (!r.done) {
      // Rejected: never routed to a batch; unfinished: routed, stopped by a limit.
      std::string replica = r.rejected || r.replica < 0 ? "" : std::to_string(r.replica);
      std::snprintf(buf, sizeof buf, "%llu,%.9f,%lld,%lld,,,,,,%s,%s,,,,%lld,%lld,%lld,%.9f\n",
                    static_cast<unsigned long long>(q.id), q.arrival.value(), static_cast<long long>(q.prompt_tokens),
                    static_cast<long long>(q.output_tokens), r.rejected ? "rejected" : "unfinished", replica.c_str(),
                    static_cast<long long>(r.preemptions), static_cast<long long>(r.cached_tokens),
                    static_cast<long long>(r.retries), r.retry_lost_s.value());
    } else {
      double tpot =
          q.output_tokens > 1 ? (r.finish - r.first_token) / static_cast<double>(q.output_tokens - 1) : Seconds{0};
      // ttft_s = queue_s + prefill_s: the admission splits the wait for the first token.
      std::snprintf(buf, sizeof buf,
                    "%llu,%.9f,%lld,%lld,%.9f,%.9f,%.9f,%.9f,%.9f,completed,%lld,%.9f,%.9f,%.9f,%lld,%lld,%lld,%.9f\n",
                    static_cast<unsigned long long>(q.id), q.arrival.value(), static_cast<long long>(q.prompt_tokens),
                    static_cast<long long>(q.output_tokens), r.first_token.value(), r.finish.value(),
                    (r.first_token - q.arrival).value(), tpot, (r.finish - q.arrival).value(),
                    static_cast<long long>(r.replica), (r.admitted - q.arrival).value(),
                    (r.first_token - r.admitted).value(), (r.finish - r.first_token).value(),
                    static_cast<long long>(r.preemptions), static_cast<long long>(r.cached_tokens),
                    static_cast<long long>(r.retries), r.retry_lost_s.value());
    }
    out += buf;
  }
  return out;
}

}  // namespace llmsim
