// The deadlock watchdog through the binary: a recv whose send never comes ends the run
// with exit 3 at the stall, naming what waits, with partial results marked as such.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli_support.h"

namespace test_deadlock_cli {

using namespace llmsim_test;

TEST_CASE("deadlock: a recv with no matching send exits 3 naming the recv", "[limits][deadlock]") {
  std::string dir = make_tmpdir("deadlock");
  std::string log = dir + "/log";
  int rc = run_llmsim("run -t topologies/dgx-h100.yaml -w test/data/deadlock/recv-without-send.yaml -o '" + dir +
                          "/out' --quiet",
                      log);
  CHECK(rc == 3);
  std::string err = slurp(log);
  CHECK(err.find("deadlock") != std::string::npos);
  CHECK(err.find("recv on gpu0 from gpu1") != std::string::npos);
  CHECK(err.find("recv-without-send.yaml:7:") != std::string::npos);  // where the recv was posted
  auto summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  CHECK(summary["partial"] == true);
  // The stall is detected at the instant the queue drains: right after the GEMM, not later.
  REQUIRE(summary["microbench"].size() == 1);
  double gemm = summary["microbench"][0]["time_s"];
  CHECK(summary["sim_time_s"].get<double>() == Approx(gemm).epsilon(1e-9));
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("deadlock: send before recv completes, the recv costs nothing", "[limits][deadlock]") {
  std::string dir = make_tmpdir("p2p");
  int rc = run_llmsim("run -t topologies/dgx-h100.yaml -w test/data/deadlock/send-then-recv.yaml -o '" + dir +
                          "/out' --quiet",
                      dir + "/log");
  REQUIRE(rc == 0);
  auto summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  REQUIRE(summary["microbench"].size() == 2);
  double send = summary["microbench"][0]["time_s"];
  double recv = summary["microbench"][1]["time_s"];
  // 64 MiB over one NVLink path (450 GB/s per direction): bytes / bandwidth plus latency.
  double wire = 64.0 * 1048576 / 450e9;
  CHECK(send >= wire);
  CHECK(send < wire * 1.2);
  CHECK(recv == 0.0);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace test_deadlock_cli
