// Issue 16: command-line flags, through the binary: numbers checked strictly, parse errors
// as one `llmsim: error:` line.
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"

namespace test_cli_flags {

using namespace llmsim_test;

namespace {

const std::string kGemm = "run -t topologies/dgx-h100.yaml -w workloads/microbench-gemm.yaml --quiet";

}  // namespace

TEST_CASE("numeric flags: negative, too large or malformed values are exit 2, one line", "[cli16]") {
  std::string out = make_tmpdir("flags");
  // Both ran with seed 18446744073709551615.
  one_error_line(run_cli(kGemm + " -o " + out + " --seed -1"),
                 "--seed:1:1: --seed expects a whole number >= 0, got '-1'");
  one_error_line(run_cli(kGemm + " -o " + out + " --seed 99999999999999999999999"),
                 "--seed 99999999999999999999999 is larger than the largest allowed");
  one_error_line(run_cli(kGemm + " -o " + out + " --seed 1.5"), "--seed expects a whole number");
  // Accepted and ignored.
  one_error_line(run_cli(kGemm + " -o " + out + " --max-sim-time -1"),
                 "--max-sim-time expects a positive number of seconds, got '-1'");
  one_error_line(run_cli(kGemm + " -o " + out + " --max-sim-time 1e300"),
                 "--max-sim-time 1e300 s is past the simulated-time horizon");
  one_error_line(run_cli(kGemm + " -o " + out + " --max-wall nan"), "--max-wall expects a positive number of seconds");
  one_error_line(run_cli(kGemm + " -o " + out + " --max-events -5"), "--max-events expects a whole number >= 1");
  one_error_line(run_cli(kGemm + " -o " + out + " --debug-tie-shuffle x"),
                 "--debug-tie-shuffle expects a whole number");
  CHECK(!exists(out + "/summary.json"));
  // Good values still work; the largest seed is allowed when asked for.
  Outcome o = run_cli(kGemm + " -o " + out + " --seed 18446744073709551615 --max-sim-time 10");
  REQUIRE(o.rc == 0);
  CHECK(nlohmann::json::parse(slurp(out + "/summary.json"))["seed"] == 18446744073709551615ull);
}

TEST_CASE("command-line parse errors are one line with the llmsim: error: prefix", "[cli16]") {
  for (const std::string& args : {std::string("run -w workloads/microbench-gemm.yaml"), std::string("run --nope"),
                                   std::string("frobnicate"), std::string("run -t a.yaml -w b.yaml --timeline=x"),
                                   std::string("fit --model llama-3.1-8b --dtype fp16 --batch 1e99"),
                                   std::string("devices --format xml"), std::string("")}) {
    Outcome o = run_cli(args);
    INFO(args << "\n" << o.text);
    CHECK(o.rc == 2);
    CHECK(std::count(o.text.begin(), o.text.end(), '\n') == 1);
    CHECK(o.text.rfind("llmsim: error: ", 0) == 0);
  }
  // --help and --version still print and exit 0.
  CHECK(run_cli("--help").rc == 0);
  CHECK(run_cli("run --help").text.find("--topology") != std::string::npos);
  CHECK(run_cli("--version").rc == 0);
}

TEST_CASE("a folder given to -t or to check says it is a directory", "[cli16]") {
  // It said "file is 8796093022207 MiB; input files are limited to 64 MiB".
  one_error_line(run_cli("run -t topologies -w workloads/microbench-gemm.yaml -o /tmp"),
                 "topologies:1:1: is a directory, not a YAML file");
  one_error_line(run_cli("check topologies/devices"), "topologies/devices:1:1: is a directory");
}

TEST_CASE("scripts/bench --help prints its usage and exits 0", "[cli16]") {
  auto [rc, text] = run_command("cd '" + kRoot + "' && scripts/bench --help");
  INFO(text);
  CHECK(rc == 0);  // it was 2, the unknown-scenario path
  CHECK(text.rfind("usage: scripts/bench elaborate|collective-scale|serve-hour|ops", 0) == 0);
  CHECK(text.find("serve-hour") != std::string::npos);
  CHECK(run_command("cd '" + kRoot + "' && scripts/bench no-such-scenario").first == 2);
}

TEST_CASE("send/recv and collectives refuse `device` saying which fields name their devices", "[cli16]") {
  // docs/microbench.md said every op takes `device`; send refused it as an unknown field.
  one_error_line(run_cli("run -t topologies/dgx-h100.yaml -w test/data/cli/send-with-device.yaml -o /tmp --quiet"),
                 "send-with-device.yaml:4:60: workload.ops[0].device: send names its devices with `from` and `to`");
  one_error_line(
      run_cli("check test/data/cli/send-with-device.yaml --set 'workload.ops.0={op: allreduce, bytes: 1 MiB, "
              "device: gpu0}'"),
      "allreduce names its devices with `group` (default all), not `device`");
  std::string docs = slurp(kRoot + "/docs/microbench.md");
  CHECK(docs.find("Every op takes `device`") == std::string::npos);
  CHECK(docs.find("`send`, `recv` and `sendrecv` name their devices with `from` and `to`") != std::string::npos);
}

TEST_CASE("scripts/demo builds only the llmsim target, build_llmsim without --target builds all", "[cli16]") {
  // cmake and the binary are stand-ins that log their arguments: this checks what the demo
  // asks to build (on a fresh machine it compiled the 38 test files it never runs).
  std::string d = make_tmpdir("demo");
  std::ofstream(d + "/cmake") << "#!/bin/sh\necho \"cmake $*\" >>'" << d << "/log'\n";
  std::ofstream(d + "/llmsim") << "#!/bin/sh\necho \"llmsim $*\" >>'" << d << "/log'\n";
  REQUIRE(std::system(("chmod +x '" + d + "/cmake' '" + d + "/llmsim'").c_str()) == 0);
  std::string env = "PATH='" + d + "':\"$PATH\" BUILD_DIR='" + d + "' OUT='" + d + "/out' ";
  auto [rc, text] = run_command("cd '" + kRoot + "' && " + env + "scripts/demo");
  INFO(text << slurp(d + "/log"));
  REQUIRE(rc == 0);
  std::string log = slurp(d + "/log");
  CHECK(log.find("cmake --build " + d + " -j") != std::string::npos);
  CHECK(log.find("--target llmsim\n") != std::string::npos);
  CHECK(log.find("llmsim run -t topologies/dgx-h100.yaml") != std::string::npos);
  // Without --target, build_llmsim still builds everything (scripts/test).
  std::ofstream(d + "/log", std::ios::trunc).flush();
  auto all = run_command("cd '" + kRoot + "' && " + env + "bash -c 'source scripts/setup.sh && build_llmsim -DX=1'");
  REQUIRE(all.first == 0);
  log = slurp(d + "/log");
  CHECK(log.find("-DX=1") != std::string::npos);
  CHECK(log.find("--target") == std::string::npos);
}

}  // namespace test_cli_flags
