// `llmsim run --timeline --vcd` end to end, as a subprocess (SystemC starts once per
// process): real models feeding the real sinks. Skipped, saying why, only while no
// microbench workload can run yet.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_support.h"
#include "test_output_util.h"

namespace test_output_e2e {

using nlohmann::json;
using namespace llmsim_test;
namespace fs = std::filesystem;

namespace {

std::pair<int, std::string> sh(const std::string& cmd) { return run_command(cmd); }

std::string slurp(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const std::string kSrc = LLMSIM_SOURCE_DIR;
const std::string kTopo = kSrc + "/topologies/dgx-h100.yaml";

// The shipped microbench workload, else the sweep tests' one; "" if neither runs yet.
std::string runnable_workload(std::string& why) {
  for (const std::string& w : {kSrc + "/workloads/microbench-gemm.yaml", kSrc + "/test/data/sweep/allreduce.yaml"}) {
    if (!fs::exists(w)) continue;
    auto r = sh(std::string("'") + LLMSIM_BINARY + "' check '" + kTopo + "' '" + w + "'");
    if (r.first == 0) return w;
    why = r.second;
  }
  return "";
}

std::string run_cmd(const std::string& work, const fs::path& out, const std::string& extra) {
  return std::string("'") + LLMSIM_BINARY + "' run -t '" + kTopo + "' -w '" + work + "' -o '" + out.string() +
         "' --quiet " + extra;
}

}  // namespace

TEST_CASE("llmsim run --timeline --vcd writes Perfetto JSON and a GTKWave-readable VCD", "[output]") {
  std::string why = "no microbench workload file";
  std::string work = runnable_workload(why);
  if (work.empty()) {
    WARN("SKIPPED until a microbench workload runs: " << why);
    return;
  }
  fs::path dir = fs::temp_directory_path() / ("llmsim_e2e_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto r = sh(run_cmd(work, dir / "a", "--timeline --vcd"));
  INFO(r.second);
  REQUIRE(r.first == 0);
  REQUIRE(fs::exists(dir / "a" / "timeline.json"));
  REQUIRE(fs::exists(dir / "a" / "signals.vcd"));
  for (const auto& e : fs::directory_iterator(dir / "a")) CHECK(e.path().filename().string().find(".tmp") == std::string::npos);

  json j = json::parse(slurp(dir / "a" / "timeline.json"));
  std::map<int, std::string> proc;
  std::map<std::pair<int, int>, double> last;
  int ops = 0;
  for (const auto& e : j["traceEvents"]) {
    REQUIRE(e.contains("ph"));
    REQUIRE(e.contains("pid"));
    REQUIRE(e.contains("tid"));
    REQUIRE(e.contains("name"));
    if (e["ph"] == "M") {
      if (e["name"] == "process_name") proc[e["pid"]] = e["args"]["name"];
      continue;
    }
    REQUIRE(e.contains("ts"));
    auto k = std::make_pair(e["pid"].get<int>(), e["tid"].get<int>());
    if (last.count(k)) CHECK(e["ts"].get<double>() >= last[k]);
    last[k] = e["ts"];
    if (e["ph"] == "X" && e["cat"] == "op") {
      ++ops;
      CHECK(e["dur"].get<double>() > 0);
    }
  }
  CHECK(ops >= 1);
  CHECK(improperly_nested(j) == 0);
  bool has_gpu0 = false;
  for (const auto& p : proc) has_gpu0 |= p.second == "gpu0";
  CHECK(has_gpu0);

  // The compute core's busy counter, traced by SystemC, changes exactly when the timeline's
  // counter does (both in integer picoseconds), ending idle.
  std::vector<std::pair<std::uint64_t, double>> busy_json;
  int gpu0 = 0;
  for (const auto& p : proc) if (p.second == "gpu0") gpu0 = p.first;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "C" && e["name"] == "compute.busy" && e["pid"] == gpu0) {
      auto ps = static_cast<std::uint64_t>(std::llround(e["ts"].get<double>() * 1e6));
      double val = e["args"]["value"];
      if (busy_json.empty() || busy_json.back().second != val) busy_json.emplace_back(ps, val);
    }
  }
  Vcd v = parse_vcd((dir / "a" / "signals.vcd").string());
  REQUIRE(v.changes.count("SystemC.gpu0.compute.busy") == 1);
  auto busy = v.changes.at("SystemC.gpu0.compute.busy");
  if (!busy.empty() && busy.front().second == 0 && !busy_json.empty() && busy_json.front().first > 0)
    busy.erase(busy.begin());  // the VCD's initial 0 when the first op starts later
  REQUIRE(busy_json.size() >= 2);
  CHECK(busy == busy_json);
  CHECK(busy.back().second == 0);
  CHECK(v.changes.count("SystemC.gpu0.hbm.occupancy_bytes") == 1);
  CHECK(v.changes.count("SystemC.gpu7.compute.busy") == 1);  // declared though idle: constant 0
  check_round_trip((dir / "a" / "signals.vcd").string(), v);

  // Same inputs, same bytes.
  r = sh(run_cmd(work, dir / "b", "--timeline"));
  REQUIRE(r.first == 0);
  CHECK(slurp(dir / "a" / "timeline.json") == slurp(dir / "b" / "timeline.json"));

  // Filters: only gpu0 in the timeline; only gpu0's signals in the VCD.
  r = sh(run_cmd(work, dir / "c", "--timeline --timeline-filter gpu0 --vcd --vcd-filter 'gpu0\\..*'"));
  REQUIRE(r.first == 0);
  j = json::parse(slurp(dir / "c" / "timeline.json"));
  for (const auto& e : j["traceEvents"])
    if (e["name"] == "process_name") CHECK((e["args"]["name"] == "gpu0" || e["args"]["name"] == "requests"));
  v = parse_vcd((dir / "c" / "signals.vcd").string());
  // busy of the three streams (compute, compute1, copy), occupancy_bytes + streams of sram
  // and hbm, power_w + clock_ghz of the power track
  CHECK(v.changes.size() == 9);
  for (const auto& kv : v.changes) CHECK(kv.first.rfind("SystemC.gpu0.", 0) == 0);

  // A bad filter is bad input: exit 2, one error line, no output file.
  r = sh(run_cmd(work, dir / "d", "--timeline --timeline-filter 'gpu[0-'"));
  CHECK(r.first == 2);
  CHECK(r.second.find("llmsim: error: --timeline-filter") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "d" / "timeline.json"));

  // A run that fails after the sinks exist (infeasible placement) leaves no timeline, no
  // VCD, no temporary, and only its own error line.
  std::string serve = kSrc + "/workloads/serve-llama3-70b-fp8-dgx-h100.yaml";
  if (fs::exists(serve)) {
    r = sh(run_cmd(serve, dir / "e",
                   "--timeline --vcd --set workload.model=llama-3.1-405b --set workload.dtype=bf16"));
    CHECK(r.first == 3);
    CHECK(r.second.rfind("llmsim: infeasible:", 0) == 0);
    CHECK(std::count(r.second.begin(), r.second.end(), '\n') == 1);
    if (fs::exists(dir / "e")) CHECK(fs::is_empty(dir / "e"));
  }
  fs::remove_all(dir);
}

}  // namespace test_output_e2e
