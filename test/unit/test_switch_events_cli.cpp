// Switches and devices going up / down through microbench `events:` (docs/microbench.md
// "Events"), and the link / switch statistics in summary.json (docs/formats.md "stats"),
// through the binary. Expected times are derived from undisturbed runs and the link rates.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>

#include "cli_support.h"

namespace test_switch_events_cli {

using namespace llmsim_test;

namespace {

// Runs one workload on one topology; the summary (if written) and the log come back.
int run_case(const std::string& topo, const std::string& workload, std::string& log, nlohmann::json* summary = nullptr,
             const std::string& flags = "") {
  std::string dir = make_tmpdir("swev");
  int rc = run_llmsim("run -t " + topo + " -w " + workload + " -o '" + dir + "/out' --quiet " + flags, dir + "/log");
  log = slurp(dir + "/log");
  if (summary && exists(dir + "/out/summary.json")) *summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  std::system(("rm -rf '" + dir + "'").c_str());
  return rc;
}

const std::string kTwo = "test/data/netdyn/two-switch.yaml";
const std::string kOne = "test/data/netdyn/one-switch.yaml";

}  // namespace

TEST_CASE("switch events: a switch going down mid-send reroutes through the other switch", "[switch_events][cli]") {
  // 1 GB from gpu0 to gpu1. Fabric a: W_a = 100 GB/s; fabric b: W_b = 50 GB/s. The
  // undisturbed send ends at L_a + B/W_a, with sw0 of a down from the start at L_b + B/W_b:
  // those two runs give the start-up latencies of either path. Down at t_d, the send has
  // moved W_a (t_d - L_a) bytes; it pays L_b again on the new path and moves the rest at W_b.
  const double B = 1e9, W_a = 100e9, W_b = 50e9, t_d = 4e-3;
  std::string log;
  nlohmann::json alone, early, mid;
  REQUIRE(run_case(kTwo, "test/data/netdyn/send.yaml", log, &alone) == 0);
  REQUIRE(run_case(kTwo, "test/data/netdyn/send-switch-down-early.yaml", log, &early) == 0);
  REQUIRE(run_case(kTwo, "test/data/netdyn/send-switch-down.yaml", log, &mid) == 0);
  const double L_a = double(alone["sim_time_s"]) - B / W_a, L_b = double(early["sim_time_s"]) - B / W_b;
  REQUIRE(L_a >= 0);
  REQUIRE(L_a < 1e-4);
  REQUIRE(L_b >= 0);
  REQUIRE(L_b < 1e-4);
  const double expected = t_d + L_b + (B - W_a * (t_d - L_a)) / W_b;
  CHECK(double(mid["sim_time_s"]) == Approx(expected).epsilon(1e-9));
  CHECK(double(mid["sim_time_s"]) > double(alone["sim_time_s"]));
}

TEST_CASE("switch events: the only switch going down exits 3 naming it", "[switch_events][cli]") {
  std::string log;
  CHECK(run_case(kOne, "test/data/netdyn/send-only-switch-down.yaml", log) == 3);
  CHECK(log.find("llmsim: infeasible:") != std::string::npos);
  CHECK(log.find("switch a.sw0 down") != std::string::npos);
  CHECK(log.find("send-only-switch-down.yaml:") != std::string::npos);
}

TEST_CASE("switch events: a switch name two fabrics share is refused at its position", "[switch_events][cli]") {
  std::string log;
  CHECK(run_case(kTwo, "test/data/netdyn/send-switch-ambiguous.yaml", log) == 2);
  CHECK(log.find("send-switch-ambiguous.yaml:6:") != std::string::npos);
  CHECK(log.find("a.sw0 and b.sw0") != std::string::npos);
}

TEST_CASE("device events: a device down then up mid-GEMM ends the GEMM later by the down time",
          "[switch_events][cli]") {
  std::string log;
  nlohmann::json alone, paused;
  REQUIRE(run_case("topologies/dgx-h100.yaml", "test/data/contention/gemm-alone.yaml", log, &alone) == 0);
  REQUIRE(run_case("topologies/dgx-h100.yaml", "test/data/contention/gemm-device-down-up.yaml", log, &paused) == 0);
  const double down = 0.8e-3 - 0.5e-3;
  REQUIRE(double(alone["microbench"][0]["time_s"]) > 0.8e-3);  // the pause falls inside the first GEMM
  CHECK(double(paused["microbench"][0]["time_s"]) == Approx(double(alone["microbench"][0]["time_s"]) + down).epsilon(1e-9));
  // The second GEMM runs after it, undisturbed.
  CHECK(double(paused["microbench"][1]["time_s"]) == Approx(double(alone["microbench"][1]["time_s"])).epsilon(1e-9));
  CHECK(double(paused["sim_time_s"]) == Approx(double(alone["sim_time_s"]) + down).epsilon(1e-9));
}

TEST_CASE("device events: a device down for good while a GEMM waits exits 3 naming both", "[switch_events][cli]") {
  std::string log;
  CHECK(run_case("topologies/dgx-h100.yaml", "test/data/contention/gemm-device-down.yaml", log) == 3);
  CHECK(log.find("gpu0 went down at 500 us and never came back") != std::string::npos);
  CHECK(log.find("ops[0] (gemm) never completed") != std::string::npos);
}

TEST_CASE("link stats: summary.json aggregates equal the sum of the components", "[switch_events][cli][stats]") {
  // The undisturbed 1 GB send over fabric a: gpu0 -> a.sw0 -> gpu1.
  const double B = 1e9, W_a = 100e9;
  std::string log;
  nlohmann::json s;
  REQUIRE(run_case(kTwo, "test/data/netdyn/send.yaml", log, &s, "--stats full") == 0);
  const auto& st = s.at("stats");
  const auto& comps = st.at("components");
  const double T = s.at("sim_time_s");
  CHECK(double(comps.at("a.gpu0-sw0.to_sw0").at("bytes")) == Approx(B).epsilon(1e-9));
  CHECK(double(comps.at("a.gpu1-sw0.to_gpu1").at("bytes")) == Approx(B).epsilon(1e-9));
  CHECK(double(comps.at("a.gpu0-sw0.to_sw0").at("busy_s")) == Approx(B / W_a).epsilon(1e-9));
  CHECK(double(comps.at("a.gpu0-sw0.to_sw0").at("utilization")) == Approx(B / (W_a * T)).epsilon(1e-9));
  CHECK(double(comps.at("a.gpu0-sw0.to_sw0").at("peak_flows")) == 1);
  CHECK(double(comps.at("a.sw0").at("bytes")) == Approx(B).epsilon(1e-9));
  CHECK(double(comps.at("b.sw0").at("bytes")) == 0);
  // Aggregates: sums over every component of the kind (links: names with a direction).
  double link_bytes = 0, link_busy = 0, switch_bytes = 0;
  int links = 0, switches = 0;
  for (auto it = comps.begin(); it != comps.end(); ++it) {
    if (it.key().find(".to_") != std::string::npos) {
      link_bytes += double(it.value().at("bytes"));
      link_busy += double(it.value().at("busy_s"));
      ++links;
    } else if (it.key().find(".sw") != std::string::npos) {
      switch_bytes += double(it.value().at("bytes"));
      ++switches;
    }
  }
  CHECK(links == 2 * 2 * 4);  // two fabrics x four GPU links x two directions
  CHECK(switches == 2);
  CHECK(int(st.at("link").at("bytes").at("count")) == links);
  CHECK(double(st.at("link").at("bytes").at("sum")) == Approx(link_bytes).epsilon(1e-12));
  CHECK(double(st.at("link").at("bytes").at("sum")) == Approx(2 * B).epsilon(1e-9));
  CHECK(double(st.at("link").at("busy_s").at("sum")) == Approx(link_busy).epsilon(1e-12));
  CHECK(double(st.at("switch").at("bytes").at("sum")) == Approx(switch_bytes).epsilon(1e-12));
  CHECK(st.at("link").at("utilization").at("unit") == "1");
}

}  // namespace test_switch_events_cli
