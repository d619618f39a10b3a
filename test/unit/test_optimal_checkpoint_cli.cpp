// [goodput][cli] `llmsim run --optimal-checkpoint` (issue 13 item 4): the flag asks a
// training workload's goodput for the interval search, and refuses any other workload.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"

namespace test_optimal_checkpoint_cli {

using namespace llmsim_test;

TEST_CASE("optimal checkpoint flag adds the interval search to goodput", "[goodput][cli]") {
  const std::string dir = make_tmpdir("optimal-ckpt");
  const std::string base = "run --quiet -t topologies/dgx-h100.yaml -w test/data/goodput/no-search.yaml -o '" + dir;
  Outcome plain = run_cli(base + "/plain'");
  REQUIRE(plain.rc == 0);
  Outcome searched = run_cli(base + "/searched' --optimal-checkpoint");
  REQUIRE(searched.rc == 0);
  auto goodput = [&](const std::string& sub) {
    return nlohmann::json::parse(slurp(dir + "/" + sub + "/summary.json")).at("training").at("goodput");
  };
  const auto p = goodput("plain"), s = goodput("searched");
  CHECK_FALSE(p.contains("best_interval"));
  REQUIRE(s.contains("best_interval"));
  // The searched interval's goodput is the best of the candidates, so at least the given
  // 30 min interval's (same seed, same trials).
  CHECK(double(s.at("best_interval").at("mean")) >= double(p.at("mean")) - 1e-12);
  CHECK(slurp(dir + "/searched/config.resolved.yaml").find("search_interval: true") != std::string::npos);
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("optimal checkpoint flag on a workload without goodput is a usage error", "[goodput][cli]") {
  const std::string dir = make_tmpdir("optimal-ckpt-bad");
  for (const std::string wl : {"workloads/train-llama3-8b-dgx-h100.yaml", "workloads/microbench-gemm.yaml"}) {
    Outcome o =
        run_cli("run --quiet -t topologies/dgx-h100.yaml -w " + wl + " -o '" + dir + "/o' --optimal-checkpoint");
    one_error_line(o, "--optimal-checkpoint");
    CHECK_FALSE(exists(dir + "/o/summary.json"));
  }
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace test_optimal_checkpoint_cli
