// [faults] `faults:` and `--fault` through the binary (docs/faults.md): the network
// slows or reroutes as the link arithmetic says, a partition exits 3 naming the cut, bad
// faults exit 2 at their position, faults show in config.resolved.yaml and the timeline,
// and a training run prices a device failure.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "cli_support.h"

namespace test_faults_cli {

using namespace llmsim_test;

namespace {

struct Run {
  int rc = 0;
  std::string log, resolved, timeline;
  nlohmann::json summary;
};

Run run_case(const std::string& topo, const std::string& workload, const std::string& flags = "") {
  Run r;
  std::string dir = make_tmpdir("faults");
  r.rc = run_llmsim("run -t " + topo + " -w " + workload + " -o '" + dir + "/out' --quiet " + flags, dir + "/log");
  r.log = slurp(dir + "/log");
  if (exists(dir + "/out/summary.json")) r.summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  if (exists(dir + "/out/config.resolved.yaml")) r.resolved = slurp(dir + "/out/config.resolved.yaml");
  if (exists(dir + "/out/timeline.json")) r.timeline = slurp(dir + "/out/timeline.json");
  std::system(("rm -rf '" + dir + "'").c_str());
  return r;
}

const std::string kRing = "test/data/netdyn/ring4.yaml";
const std::string kRingAr = "test/data/faults/ring-allreduce.yaml";

double op_time(const Run& r) { return r.summary["microbench"][0]["time_s"].get<double>(); }

}  // namespace

// ring4's H100s run NCCL (their default stack's library, docs/models.md "Collective
// libraries"); at 64 MiB it picks Simple: 8.4 us once, each step at least 3.4 us of latency
// (more than the 1 us link), data at 0.772 of the link rate (C13's measured share on NVLink).
constexpr double kBase = 8.4e-6, kStep = 3.4e-6, kEff = 231.6 / 300;

TEST_CASE("faults: a degraded link slows a ring all-reduce by the slowest link's share", "[faults][cli]") {
  // ring4: 4 GPUs, B = 100 GB/s, L = 1 us. A ring all-reduce of S is 2 (n - 1) = 6 steps,
  // each moving S / 4 over every ring link at once, so each step lasts max(L, step) +
  // (S/4) / (eff B_min): the slowest link sets the pace. At 25 % on one link, B_min = B / 4.
  const double S = 64.0 * 1024 * 1024, B = 100e9;
  Run plain = run_case(kRing, kRingAr);
  REQUIRE(plain.rc == 0);
  Run slow = run_case(kRing, kRingAr, "--fault link-degraded:gpu1-gpu2@0s,bandwidth=25%");
  INFO(slow.log);
  REQUIRE(slow.rc == 0);
  CHECK(op_time(plain) == Approx(kBase + 6 * (kStep + S / 4 / (kEff * B))).epsilon(1e-8));  // 8 ps roundings
  CHECK(op_time(slow) == Approx(kBase + 6 * (kStep + S / 4 / (kEff * B / 4))).epsilon(1e-9));
}

TEST_CASE("faults: a degraded link for a while: only the steps inside the window slow", "[faults][cli]") {
  // Degraded from 0 until the first step ends (the library's start-up, the step's latency
  // and S/4 at the quarter rate), then the 5 others run at full rate.
  const double S = 64.0 * 1024 * 1024, B = 100e9;
  const double first = kBase + kStep + S / 4 / (kEff * B / 4);
  char flag[128];
  std::snprintf(flag, sizeof flag, "--fault 'link-degraded:gpu1-gpu2@0s+%.12gs,bandwidth=25%%'", first);
  Run r = run_case(kRing, kRingAr, flag);
  INFO(r.log);
  REQUIRE(r.rc == 0);
  CHECK(op_time(r) == Approx(first + 5 * (kStep + S / 4 / (kEff * B))).epsilon(1e-6));
}

TEST_CASE("faults: a cut link on a 2D torus reroutes, the all-reduce completes later", "[faults][cli]") {
  const std::string topo = "test/data/faults/torus4x4.yaml", w = "test/data/faults/torus-allreduce.yaml";
  Run plain = run_case(topo, w);
  REQUIRE(plain.rc == 0);
  const double t = op_time(plain);
  char flag[96];
  std::snprintf(flag, sizeof flag, "--fault link-down:gpu0-gpu1@%.12gs", t / 3);
  Run cut = run_case(topo, w, flag);
  INFO(cut.log);
  REQUIRE(cut.rc == 0);  // the wrap-around keeps the torus connected
  CHECK(op_time(cut) > t);
  // The flows on the cut link lose at most its share: no slower than every byte over the
  // remaining path twice (a detour of at most 3 hops on a 4-ring shares a link with others).
  CHECK(op_time(cut) < 4 * t);
}

TEST_CASE("faults: two cuts on a ring partition the collective group: exit 3 naming the cut", "[faults][cli]") {
  Run r = run_case(kRing, "test/data/faults/ring-two-cuts.yaml");
  CHECK(r.rc == 3);
  CHECK(r.log.find("llmsim: infeasible:") != std::string::npos);
  CHECK(r.log.find("gpu0-gpu1") != std::string::npos);
  CHECK(r.log.find("gpu2-gpu3") != std::string::npos);
  CHECK(r.log.find("ring-two-cuts.yaml:") != std::string::npos);
}

TEST_CASE("faults: a straggler's compute-bound GEMM takes (1 + slowdown) as long", "[faults][cli]") {
  // slowdown 30 %: the device's clock runs at 1 / 1.3 of nominal; an 8192^3 GEMM is
  // compute bound, its time proportional to 1 / clock.
  const std::string topo = "topologies/dgx-h100.yaml", w = "test/data/faults/gemm.yaml";
  Run plain = run_case(topo, w);
  Run slow = run_case(topo, w, "--fault straggler:gpu0@0s,slowdown=30%");
  INFO(slow.log);
  REQUIRE(plain.rc == 0);
  REQUIRE(slow.rc == 0);
  CHECK(op_time(slow) == Approx(1.3 * op_time(plain)).epsilon(0.02));
}

TEST_CASE("faults: appear in config.resolved.yaml, rerun the same, and in the timeline", "[faults][cli]") {
  Run r = run_case(kRing, kRingAr, "--fault link-degraded:gpu1-gpu2@0s,bandwidth=25% --timeline");
  REQUIRE(r.rc == 0);
  CHECK(r.resolved.find("faults:") != std::string::npos);
  CHECK(r.resolved.find("link-degraded") != std::string::npos);
  CHECK(r.timeline.find("\"fault\"") != std::string::npos);
  CHECK(r.timeline.find("link-degraded:gpu1-gpu2") != std::string::npos);
  // Rerunning the resolved config reproduces the time without the flag.
  std::string dir = make_tmpdir("faults-again");
  std::FILE* f = std::fopen((dir + "/c.yaml").c_str(), "w");
  std::fputs(r.resolved.c_str(), f);
  std::fclose(f);
  Run again = run_case(dir + "/c.yaml", dir + "/c.yaml");
  std::system(("rm -rf '" + dir + "'").c_str());
  INFO(again.log);
  REQUIRE(again.rc == 0);
  CHECK(op_time(again) == op_time(r));
}

TEST_CASE("faults: bad faults exit 2 with their position", "[faults][cli]") {
  struct Case {
    const char* workload;
    const char* flags;
    const char* at;
    const char* says;
  };
  const Case cases[] = {
      {"test/data/faults/ring-allreduce.yaml", "--fault device-down:gpu9@1s", "llmsim: error: --fault:1:1:", "unknown device 'gpu9'"},
      {"test/data/faults/ring-allreduce.yaml", "--fault link-down:gpu0-gpu1@1s --fault device-down:gpu3@soon",
       "llmsim: error: --fault:2:1:", "soon"},
      {"test/data/faults/ring-allreduce.yaml", "--fault link-down:gpu0-gpu2@1s", "llmsim: error: --fault:1:1:", "no link joins"},
      {"test/data/faults/ring-allreduce.yaml", "--fault melt:gpu0@1s", "llmsim: error: --fault:1:1:", "melt"},
      {"test/data/faults/ring-allreduce.yaml", "--fault gpu0", "llmsim: error: --fault:1:1:", "KIND:TARGET@TIME"},
      {"test/data/faults/ring-allreduce.yaml", "--fault straggler:gpu0@0s", "llmsim: error: --fault:1:1:", "slowdown"},
      {"test/data/faults/not-a-list.yaml", "", "llmsim: error: test/data/faults/not-a-list.yaml:5:", "must be a list"},
      {"test/data/faults/bad-target.yaml", "", "llmsim: error: test/data/faults/bad-target.yaml:6:", "unknown device 'gpu9'"},
  };
  for (const auto& c : cases) {
    Run r = run_case(kRing, c.workload, c.flags);
    INFO(c.flags << " " << c.workload << "\n" << r.log);
    CHECK(r.rc == 2);
    CHECK(r.log.rfind(c.at, 0) == 0);
    CHECK(r.log.find(c.says) != std::string::npos);
    CHECK(r.log.find('\n') == r.log.size() - 1);  // one line
    CHECK(r.summary.is_null());                   // no output
  }
}

// Llama 3.1 8B: 8,030,261,248 parameters (Meta's model card: 8.03B); a checkpoint is each
// one's bf16 weight, fp32 master weight and two fp32 Adam moments, 2 + 4 + 4 + 4 = 14 B
// (docs/faults.md "Training"), written at train-8b.yaml's aggregate 100 GB/s.
constexpr double kCheckpointWrite = 8030261248.0 * 14 / 100e9;

double work_step(const nlohmann::json& t) {  // the mean step less its checkpoint writes
  return t["step_time_s"].get<double>() * (1 - t["time"]["checkpoint"].get<double>());
}

TEST_CASE("faults: each step crossing the checkpoint interval pays the write", "[faults][cli][training]") {
  const std::string topo = "topologies/dgx-h100.yaml", w = "test/data/faults/train-8b.yaml";
  // An interval longer than the run: no step crosses it, no write.
  Run none = run_case(topo, w, "--set workload.checkpoint.interval=1h");
  REQUIRE(none.rc == 0);
  const auto& tn = none.summary["training"];
  CHECK(tn["time"]["checkpoint"].get<double>() == 0);
  const double step = tn["step_time_s"].get<double>();
  // Energy per token (issue 13 item 1): the run's energy over its 3 x 8 x 2048 tokens, at
  // least the 8 H100s' idle power (105 W each, catalog) over the run.
  const double tokens = 3.0 * 8 * 2048, T = none.summary["sim_time_s"].get<double>();
  CHECK(tn["j_per_token"].get<double>() == Approx(none.summary["energy_j"].get<double>() / tokens).epsilon(1e-9));
  CHECK(tn["j_per_token"].get<double>() >= 8 * 105.0 * T / tokens);
  // 1 ms: every step end crosses a multiple, so each of the three steps pays one write.
  Run r = run_case(topo, w, "--timeline");
  INFO(r.log);
  REQUIRE(r.rc == 0);
  const auto& t = r.summary["training"];
  CHECK(t["step_time_s"].get<double>() == Approx(step + kCheckpointWrite).epsilon(0.01));
  CHECK(t["time"]["checkpoint"].get<double>() == Approx(kCheckpointWrite / (step + kCheckpointWrite)).epsilon(0.01));
  double shares = 0;
  for (const auto& kv : t["time"].items()) shares += kv.value().get<double>();
  CHECK(shares == Approx(1).epsilon(1e-9));
  // ZeRO-1 shards the optimizer states over DP: the shards still add up to 14 B per
  // parameter, written by all ranks at the same aggregate bandwidth.
  Run z = run_case(topo, w, "--set workload.parallelism.zero=1");
  REQUIRE(z.rc == 0);
  const auto& tz = z.summary["training"];
  CHECK(tz["time"]["checkpoint"].get<double>() * tz["step_time_s"].get<double>() ==
        Approx(kCheckpointWrite).epsilon(0.01));
  // On the timeline: one span per write on the `checkpoint` track, each as long as the write.
  const auto tl = nlohmann::json::parse(r.timeline);
  const auto& events = tl.is_array() ? tl : tl["traceEvents"];
  int spans = 0;
  for (const auto& e : events) {
    if (!e.contains("cat") || e["cat"] != "checkpoint" || e["ph"] != "X") continue;
    ++spans;
    CHECK(e["dur"].get<double>() * 1e-6 == Approx(kCheckpointWrite).epsilon(1e-6));
  }
  CHECK(spans == 3);
}

TEST_CASE("faults: a device failure stops training, the summary prices it", "[faults][cli][training]") {
  const std::string topo = "topologies/dgx-h100.yaml", w = "test/data/faults/train-8b.yaml";
  Run plain = run_case(topo, w);
  REQUIRE(plain.rc == 0);
  // Each step is its work S then (the 1 ms interval is crossed by every step end) the
  // checkpoint write W. Fail gpu3 half-way through the second step's work: one step done,
  // the checkpoint after it saved at S + W, so the work lost is half a step.
  const double step = plain.summary["training"]["step_time_s"].get<double>();
  const double S = work_step(plain.summary["training"]);
  const double at = step + 0.5 * S;
  char flag[96];
  std::snprintf(flag, sizeof flag, "--fault device-down:gpu3@%.12gs", at);
  Run r = run_case(topo, w, flag);
  INFO(r.log);
  REQUIRE(r.rc == 0);
  const auto& f = r.summary["training"]["failure"];
  CHECK(f["device"] == 3);
  CHECK(f["steps_completed"] == 1);
  CHECK(f["at_s"].get<double>() == Approx(at));
  CHECK(f["last_checkpoint_s"].get<double>() == Approx(S + kCheckpointWrite).epsilon(0.05));
  CHECK(f["lost_work_s"].get<double>() == Approx(0.5 * S).epsilon(0.15));
  CHECK(f["restart_s"].get<double>() == 600.0);
  CHECK(f["time_lost_s"].get<double>() == Approx(f["lost_work_s"].get<double>() + 600.0));
}

// Correlated failures (docs/faults.md "Goodput"): a host failure takes its 8 GPUs down at
// once but interrupts the job once. At one host-failure rate the job sees as many
// interruptions as at an eighth of it per GPU (one host, 8 GPUs), so the same goodput; 8
// GPUs failing independently at the host's rate lose as many devices per day but interrupt
// 8 times as often, so goodput is lower.
TEST_CASE("faults: a host failure is one interruption for its 8 devices", "[faults][cli][goodput]") {
  const std::string topo = "topologies/dgx-h100.yaml", w = "test/data/faults/train-8b.yaml";
  const std::string base =
      "--set workload.steps=1 --set workload.checkpoint.interval=30min --set workload.goodput.days=54 "
      "--set workload.goodput.trials=100 ";
  auto goodput = [&](const std::string& rates) {
    Run r = run_case(topo, w, base + rates);
    INFO(r.log);
    REQUIRE(r.rc == 0);
    return r.summary["training"]["goodput"];
  };
  const double rate = 1e-2;  // per host-hour: 13 interruptions in 54 days
  const auto host =
      goodput("--set workload.goodput.failure_rates.gpu=0 --set workload.goodput.failure_rates.host=0.01");
  const auto gpu8 = goodput("--set workload.goodput.failure_rates.gpu=0.00125");
  const auto gpu = goodput("--set workload.goodput.failure_rates.gpu=0.01");
  CHECK(host["failures_per_day"].get<double>() == Approx(rate * 24));
  CHECK(host["devices_down_per_day"].get<double>() == Approx(8 * rate * 24));
  // Same interruptions: the same failure draws, the same goodput.
  CHECK(gpu8["failures_per_day"].get<double>() == Approx(rate * 24));
  CHECK(gpu8["devices_down_per_day"].get<double>() == Approx(rate * 24));
  CHECK(gpu8["mean"].get<double>() == Approx(host["mean"].get<double>()).epsilon(1e-12));
  // Same devices down per day, uncorrelated: 8x the interruptions, less goodput.
  CHECK(gpu["devices_down_per_day"].get<double>() == Approx(host["devices_down_per_day"].get<double>()));
  CHECK(gpu["failures_mean"].get<double>() == Approx(8 * host["failures_mean"].get<double>()).epsilon(0.15));
  CHECK(gpu["mean"].get<double>() < host["mean"].get<double>());
}

}  // namespace test_faults_cli
