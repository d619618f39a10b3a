// `kind: microbench` through the binary: the shipped files run and report per-op rows;
// bad ops fail with exit 2 and FILE:LINE:COL.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_support.h"

namespace test_microbench {

using llmsim_test::kRoot;
using llmsim_test::slurp;

namespace {

std::string tmpdir() {
  char buf[] = "/tmp/llmsim-mb-XXXXXX";
  REQUIRE(::mkdtemp(buf) != nullptr);
  return buf;
}

// Runs llmsim from the source root; stdout+stderr into `log`. Returns the exit status.
// (Output dirs of failing runs stay empty: bad input writes nothing.)
int run(const std::string& args, std::string& log) {
  std::string dir = tmpdir();
  std::string cmd = "cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) + "' " + args + " >'" + dir +
                    "/log' 2>&1";
  int rc = std::system(cmd.c_str());
  log = slurp(dir + "/log");
  std::system(("rm -rf '" + dir + "'").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string write_tmp(const std::string& text) {
  std::string p = tmpdir() + "/bad.yaml";
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST_CASE("microbench: gemm file on dgx-h100 reports C1 and per-op fields", "[compute][microbench]") {
  std::string out = tmpdir(), log;
  REQUIRE(run("run -t topologies/dgx-h100.yaml -w workloads/microbench-gemm.yaml -o " + out, log) == 0);
  auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  CHECK(j["kind"] == "microbench");
  REQUIRE(j["microbench"].size() == 6);
  auto g = j["microbench"][0];
  CHECK(g["op"] == "gemm");
  CHECK(g["device"] == "gpu0");
  CHECK(g["tflops"].get<double>() > 700);
  CHECK(g["tflops"].get<double>() < 850);
  CHECK(g["waves"] == 16);
  CHECK(g["tiles"] == 2048);
  CHECK(g["achieved_fraction_of_peak"].get<double>() < 1);
  for (const char* k : {"time_s", "bytes_per_s", "algbw_bytes_per_s", "busbw_bytes_per_s"}) CHECK(g.contains(k));
  // Wave-quantisation pair (rows 3 and 4): 132 vs 133 tiles.
  CHECK(j["microbench"][2]["waves"] == 1);
  CHECK(j["microbench"][3]["waves"] == 2);
  // Energy: 8 devices at least idle, at most TDP.
  double t = j["sim_time_s"], e = j["energy_j"], p = j["avg_power_w"];
  CHECK(e >= 8 * 90 * t * 0.999);
  CHECK(p <= 8 * 700);
  CHECK(p == Approx(e / t));
  CHECK(log.find("gemm") != std::string::npos);  // one human line per op
  std::system(("rm -rf '" + out + "'").c_str());
}

TEST_CASE("microbench: copy file lands C2 on H100", "[compute][microbench]") {
  std::string out = tmpdir(), log;
  REQUIRE(run("run -t topologies/dgx-h100.yaml -w workloads/microbench-copy.yaml -o " + out, log) == 0);
  auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  auto c = j["microbench"][0];
  CHECK(c["op"] == "copy");
  CHECK(c["bytes_per_s"].get<double>() > 2.8e12);
  CHECK(c["bytes_per_s"].get<double>() < 3.2e12);
  CHECK(c["algbw_bytes_per_s"].get<double>() == Approx(c["bytes_per_s"].get<double>() / 2));
  // repeat: 100 reports the mean per repetition.
  CHECK(j["microbench"][3]["repeat"] == 100);
  CHECK(j["microbench"][3]["time_s"].get<double>() < 1e-4);
  std::system(("rm -rf '" + out + "'").c_str());
}

TEST_CASE("microbench: bad ops exit 2 with FILE:LINE:COL", "[compute][microbench]") {
  std::string log;
  std::string f = write_tmp("kind: microbench\nops:\n  - {op: gemm, m: 8, n: 8, k: 8}\n  - {op: gemmm, m: 8}\n");
  CHECK(run("run -t topologies/dgx-h100.yaml -w " + f + " -o " + tmpdir(), log) == 2);
  CHECK(log.find(f + ":4:") != std::string::npos);
  CHECK(log.find("unknown op 'gemmm'") != std::string::npos);
  CHECK(log.find("attention") != std::string::npos);  // lists the known ops

  // fp8 on TPU v4: names op, chip and the position of `dtype` (line 7 of the file).
  CHECK(run("run -t topologies/dgx-h100.yaml -w workloads/microbench-gemm-fp8.yaml --set topology.device=google-tpu-v4 -o " +
                tmpdir(), log) == 2);
  CHECK(log.find("workloads/microbench-gemm-fp8.yaml:7:") != std::string::npos);
  CHECK(log.find("google-tpu-v4") != std::string::npos);
  CHECK(log.find("fp8") != std::string::npos);
  CHECK(log.find("gemm") != std::string::npos);

  f = write_tmp("kind: microbench\nops:\n  - {op: gemm, m: 0, n: 8, k: 8}\n");
  CHECK(run("run -t topologies/dgx-h100.yaml -w " + f + " -o " + tmpdir(), log) == 2);
  CHECK(log.find(f + ":3:") != std::string::npos);

  f = write_tmp("kind: microbench\nops:\n  - {op: copy, bytes: 1 GiB, device: gpu9}\n");
  CHECK(run("run -t topologies/dgx-h100.yaml -w " + f + " -o " + tmpdir(), log) == 2);
  CHECK(log.find(f + ":3:") != std::string::npos);
  CHECK(log.find("unknown device 'gpu9'") != std::string::npos);

  f = write_tmp("kind: microbench\nops:\n  - {op: copy, bytes: 1 GiB, from: ddr, to: hbm}\n");
  CHECK(run("run -t topologies/dgx-h100.yaml -w " + f + " -o " + tmpdir(), log) == 2);
  CHECK(log.find(f + ":3:") != std::string::npos);
  CHECK(log.find("no memory tier 'ddr'") != std::string::npos);
}

}  // namespace test_microbench
