// scripts/sweep, scripts/plot and scripts/tokenize are Python (scripts/format is bash); their tests
// (test/scripts/*.py, unittest) run here so ctest runs them with everything else. Each
// Python test asserts the real numbers (rows, metrics, reruns, files written); this only
// carries its verdict. The sweep, plot and Slurm suites are tagged [slow]: they test Python
// and take minutes of wall time, so the sanitizer run (which skips [slow]) leaves them to
// the Release run, where they run in full.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "cli_support.h"

namespace test_sweep {

namespace {

std::pair<int, std::string> run(const std::string& cmd) { return llmsim_test::run_command(cmd); }

void python_suite(const std::string& script) {
  std::string cmd = std::string("LLMSIM_BINARY='") + LLMSIM_BINARY + "' python3 '" + LLMSIM_SOURCE_DIR +
                    "/test/scripts/" + script + "'";
  auto r = run(cmd);
  INFO(r.second);
  if (r.second.find("skipped") != std::string::npos) WARN(r.second);  // say what did not run, and why
  REQUIRE(r.first == 0);
  CHECK(r.second.find("\nOK") != std::string::npos);
}

}  // namespace

TEST_CASE("scripts/tokenize: approximate counts, JSONL / CSV, errors, synthetic lengths, the shipped trace", "[training]") {
  python_suite("test_tokenize.py");
}

TEST_CASE("scripts/sweep: rows, failures, resume after kill, slurm dry run, real runs", "[output][sweep][slow]") {
  python_suite("test_sweep.py");
}

TEST_CASE("scripts/sweep: SIGTERM and SIGINT stop every worker and keep finished points, progress lines",
          "[output][sweep][slow]") {
  python_suite("test_sweep_signals.py");
}

TEST_CASE("scripts/plot: every file --help names, serving plots draw the numbers of requests.csv and results.csv", "[output][plot][slow]") {
  python_suite("test_plot.py");
}

TEST_CASE("scripts/sweep --slurm: a private single-node Slurm cluster runs the sweep", "[output][slurm][slow]") {
  python_suite("test_sweep_slurm.py");
}

TEST_CASE("scripts/format: only the C++ lines changed since BASE are checked and formatted", "[format]") {
  python_suite("test_format.py");
}

TEST_CASE("llmsim plan: k replicas, monotone in targets and prices, pruning keeps the brute-force best",
          "[plan][slow]") {
  python_suite("test_plan.py");
}

TEST_CASE("llmsim plan training: the fastest of a brute force, monotone in a price, bound pruning",
          "[plan][training][slow]") {
  python_suite("test_plan_training.py");
}

}  // namespace test_sweep
