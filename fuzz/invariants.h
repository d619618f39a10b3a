// Invariants of a finished run, read from its output folder (summary.json, requests.csv,
// timeline.json; docs/outputs.md, docs/inference.md, docs/microbench.md). Shared by the
// `simulate` fuzz target (in-process runs) and the [property] tests (runs of the binary).
// Each returns what it found wrong, one line per violation; empty = the run holds:
// - every request completes or is reported rejected (exit 0: none unfinished), each
//   exactly once, and summary.json counts agree with requests.csv;
// - no time is negative or goes backwards: arrival <= first token <= finish <= the run's
//   end, and ttft / e2e / queue / prefill / decode agree with those instants;
// - no device above its peak: microbench rows' achieved fraction of peak <= 1, FLOP/s of
//   a row <= its chip's peak; no utilisation statistic above 1;
// - the timeline invariants of fuzz/invariants_timeline.h (links, switches, operators);
// - byte-identical reruns (compare_runs).
#pragma once
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/invariants_timeline.h"

namespace llmsim_fuzz {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace detail {

inline std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == ',') out.emplace_back();
    else out.back() += c;
  }
  return out;
}

// requests.csv is printed to 1e-9 s; a difference of two printed times is off by up to 2e-9.
constexpr double kCsvSlack = 3e-9;

inline void check_request_row(const std::vector<std::string>& f, double end_s, Violations& fail) {
  const std::string row = "request " + f[0];
  if (f[9] == "rejected") return;
  if (f[9] != "completed") {
    fail(row + ": status '" + f[9] + "' in a run that ended normally (neither completed nor rejected)");
    return;
  }
  double arrival = std::stod(f[1]), first = std::stod(f[4]), finish = std::stod(f[5]);
  double ttft = std::stod(f[6]), e2e = std::stod(f[8]);
  double queue = std::stod(f[11]), prefill = std::stod(f[12]), decode = std::stod(f[13]);
  if (!(arrival >= 0)) fail(row + ": negative arrival " + f[1]);
  if (first < arrival - kCsvSlack || finish < first - kCsvSlack) fail(row + ": first token or finish before arrival");
  if (finish > end_s + kCsvSlack) fail(row + ": finishes at " + f[5] + " s, after the run's end");
  if (std::fabs(ttft - (first - arrival)) > kCsvSlack || std::fabs(e2e - (finish - arrival)) > kCsvSlack) {
    fail(row + ": ttft_s / e2e_s disagree with its arrival, first token and finish");
  }
  if (queue < 0 || prefill < 0 || decode < 0 || std::fabs(queue + prefill - ttft) > kCsvSlack ||
      std::fabs(ttft + decode - e2e) > kCsvSlack) {
    fail(row + ": queue_s + prefill_s + decode_s do not add up to its ttft_s and e2e_s");
  }
  if (f[7] != "" && std::stod(f[7]) < 0) fail(row + ": negative tpot_s");
}

inline void check_requests(const nlohmann::json& summary, const std::string& csv, int expected, Violations& fail) {
  const auto& inf = summary.at("inference");
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  if (line.rfind("id,arrival_s,prompt_tokens,output_tokens,first_token_s,finish_s,ttft_s,tpot_s,e2e_s,status", 0) != 0) {
    fail("requests.csv: unexpected header '" + line + "'");
    return;
  }
  int rows = 0, completed = 0, rejected = 0;
  double end_s = summary.at("sim_time_s").get<double>();
  while (std::getline(in, line)) {
    std::vector<std::string> f = split_csv(line);
    // 15 contract columns + cached_tokens, retries, retry_lost_s (appended; docs/inference.md,
    // docs/faults.md "Serving")
    if (f.size() != 18 || f[0] != std::to_string(rows)) {
      fail("requests.csv row " + std::to_string(rows) + ": malformed or out of order: '" + line + "'");
      return;
    }
    ++rows;
    completed += f[9] == "completed";
    rejected += f[9] == "rejected";
    check_request_row(f, end_s, fail);
  }
  if (rows != expected || inf.at("requests").get<int>() != expected) {
    fail("requests: " + std::to_string(rows) + " rows and " + inf.at("requests").dump() + " in summary.json, for " +
         std::to_string(expected) + " generated");
  }
  if (inf.at("completed").get<int>() != completed || inf.at("rejected").get<int>() != rejected) {
    fail("summary.json completed/rejected (" + inf.at("completed").dump() + "/" + inf.at("rejected").dump() +
         ") disagree with requests.csv (" + std::to_string(completed) + "/" + std::to_string(rejected) + ")");
  }
}

inline void check_microbench(const nlohmann::json& rows, const llmsim::Topology& topo, Violations& fail) {
  for (const auto& r : rows) {
    std::string what = "microbench row " + r.value("op", "") + " on " + r.value("device", "");
    double t = r.at("time_s").get<double>();
    if (!(t >= 0) || !std::isfinite(t)) fail(what + ": time_s " + std::to_string(t));
    double frac = r.value("achieved_fraction_of_peak", 0.0);
    if (!(frac >= 0 && frac <= 1 + 1e-9)) fail(what + ": achieved_fraction_of_peak " + std::to_string(frac));
    int dev = topo.device_by_name(r.value("device", ""));
    double flops = r.value("flops", 0.0);
    if (dev >= 0 && flops > 0 && t > 0) {
      double peak = chip_peak(*topo.device_chip[static_cast<std::size_t>(dev)], r.value("dtype", ""));
      if (flops / t > peak * (1 + 1e-9)) fail(what + ": " + std::to_string(flops / t) + " FLOP/s above peak " + std::to_string(peak));
    }
  }
}

// Every "utilization" statistic (compute units, memory tiers) at most 1, none negative.
inline void check_stats(const nlohmann::json& stats, Violations& fail) {
  for (const auto& [group, fields] : stats.items()) {
    if (!fields.is_object() || !fields.contains("utilization")) continue;
    const auto& u = fields.at("utilization");
    double hi = u.is_object() ? u.value("max", 0.0) : u.get<double>();
    if (!(hi >= 0 && hi <= 1 + 1e-9)) fail("stats " + group + ".utilization " + std::to_string(hi) + " outside [0, 1]");
  }
}

}  // namespace detail

// The run in `dir` ended with exit 0. `requests`: how many the scenario generated (serving
// runs); `max_event_bandwidth` as in check_timeline.
inline std::vector<std::string> check_run(const std::string& dir, const llmsim::Topology& topo, bool inference,
                                          int requests, double max_event_bandwidth) {
  Violations fail;
  nlohmann::json summary = nlohmann::json::parse(read_file(dir + "/summary.json"));
  double end_s = summary.at("sim_time_s").get<double>();
  if (!(end_s >= 0) || summary.at("partial").get<bool>()) fail("sim_time_s negative or a partial run with exit 0");
  if (inference) detail::check_requests(summary, read_file(dir + "/requests.csv"), requests, fail);
  else detail::check_microbench(summary.at("microbench"), topo, fail);
  detail::check_stats(summary.at("stats"), fail);
  check_timeline(nlohmann::json::parse(read_file(dir + "/timeline.json")), end_s, topo, max_event_bandwidth, fail);
  return fail.list;
}

// summary.json less its wall_time_s line.
inline std::string summary_less_wall(const std::string& dir) {
  std::istringstream in(read_file(dir + "/summary.json"));
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find("\"wall_time_s\"") == std::string::npos) out += line + "\n";
  }
  return out;
}

// Two runs of the same inputs wrote the same bytes (summary.json but its wall time).
inline std::vector<std::string> compare_runs(const std::string& a, const std::string& b) {
  std::vector<std::string> diff;
  if (summary_less_wall(a) != summary_less_wall(b)) diff.push_back("summary.json differs between reruns");
  for (const char* f : {"requests.csv", "timeline.json", "config.resolved.yaml"}) {
    if (read_file(a + "/" + f) != read_file(b + "/" + f)) diff.push_back(std::string(f) + " differs between reruns");
  }
  return diff;
}

}  // namespace llmsim_fuzz
