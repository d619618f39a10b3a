// Issue 16, everyday use: inputs a new user hits, through the binary (exit status, one
// `llmsim: error:` line, no hang). Inputs live in test/bad-inputs/ and test/data/cli/.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"

namespace test_cli_inputs {

using namespace llmsim_test;

TEST_CASE("billion laughs: aliases that expand too far are exit 2 naming the anchor, at once", "[cli16]") {
  Outcome o = run_cli("check test/bad-inputs/yaml-billion-laughs.yaml");
  one_error_line(o, "anchor 'i'");
  CHECK(o.text.find("yaml-billion-laughs.yaml:11:") != std::string::npos);  // where &i is
  CHECK(o.seconds < 5);
  std::string out = make_tmpdir("laughs");
  o = run_cli("run -t topologies/dgx-h100.yaml -w test/bad-inputs/yaml-billion-laughs.yaml -o " + out + " --quiet");
  one_error_line(o, "anchor 'i'");
  CHECK(!exists(out + "/summary.json"));
  CHECK(o.seconds < 5);
  // Under keys the schema does not know, the unknown key is what the user hears first.
  o = run_cli("check test/bad-inputs/yaml-billion-laughs-unknown-key.yaml");
  one_error_line(o, "unknown field 'lol'");
  CHECK(o.seconds < 5);
  // The same document through --set: refused before the override is applied.
  std::string lol = "{a: &a [l, l, l, l, l, l, l, l, l]";
  for (char c = 'b', prev = 'a'; c <= 'i'; prev = c++) {
    lol += std::string(", ") + c + ": &" + c + " [";
    for (int k = 0; k < 9; ++k) lol += std::string(k ? ", " : "") + "*" + prev;
    lol += "]";
  }
  o = run_cli("check topologies/dgx-h100.yaml --set 'topology.sources=" + lol + "}'");
  one_error_line(o, "anchor 'h'");
  CHECK(o.text.find("--set:1:") != std::string::npos);
  CHECK(o.seconds < 5);
  // Aliases within the bound still work.
  o = run_cli("check topologies/dgx-h100.yaml --set 'topology.sources=[&s x, *s, *s]'");
  CHECK(o.rc == 0);
}

TEST_CASE("time past 2^63 ps: exit 2 for inputs that cannot be represented, 3 for runs that pass it", "[cli16]") {
  std::string out = make_tmpdir("horizon");
  auto run = [&](const std::string& wl) {
    return run_cli("run -t topologies/dgx-h100.yaml -w test/data/cli/" + wl + " -o " + out + " --quiet");
  };
  // A request at 1e7 s wrapped to a negative TTFT (exit 0); now its trace row is refused.
  Outcome o = run("far-arrival.yaml");
  one_error_line(o, "far-arrival.csv:3:1: arrival at 1e+07 s");
  CHECK(o.text.find("horizon of 9223372 s") != std::string::npos);
  // One arrival every 1e300 s wrote a malformed requests.csv (exit 0); the rate is refused.
  o = run("tiny-rate.yaml");
  one_error_line(o, "tiny-rate.yaml:7:46: workload.requests.rate: 1e-300/s is one event every 1e+300 s");
  // 1000 fixed arrivals at 1e-4/s span ~1e7 s.
  o = run("slow-count-rate.yaml");
  one_error_line(o, "slow-count-rate.yaml:6:47: workload.requests.rate: 1000 requests");
  // A time quantity past the horizon.
  o = run_cli("check test/data/cli/far-arrival.yaml --set 'workload.trace.start=1e7 s'");
  one_error_line(o, "--set:1:22: workload.trace.start: 1e7 s is past the simulated-time horizon");
  // Arrivals inside the horizon whose serving passes it: exit 3 naming it, no files.
  o = run("late-arrival.yaml");
  INFO(o.text);
  CHECK(o.rc == 3);
  CHECK(o.text.find("llmsim: infeasible: simulated time would reach 9223372.") != std::string::npos);
  CHECK(o.text.find("horizon of 9223372 s (2^63 ps, about 106.75 days") != std::string::npos);
  CHECK(!exists(out + "/summary.json"));
  CHECK(!exists(out + "/requests.csv"));
}

TEST_CASE("microbench past the horizon: a 64 MiB all-reduce on 10 B/s links is exit 3, not 8,388,608 s", "[cli16]") {
  std::string out = make_tmpdir("mb-horizon");
  const std::string slow = " --set 'topology.fabrics.0.link.bandwidth=10 B/s' --quiet";
  // Ring all-reduce on 4 devices under the Grayskull's default library (tt-metal ->
  // ttnn-ccl, which carries 0.8 of a link's rate: topologies/collectives/ttnn-ccl.yaml):
  // 6 steps of 64 MiB / 4 / (10 B/s x 0.8) = 2,097,152 s; the fifth step ends at
  // 10,485,760 s, past 9.2e6 s. It reported 8,388,608 s once (the wrapped picosecond
  // count) and a busbw above the link rate.
  Outcome o = run_cli("run -t topologies/grayskull-4.yaml -w test/data/cli/allreduce-64mib.yaml -o " + out + slow);
  INFO(o.text);
  CHECK(o.rc == 3);
  CHECK(o.text.find("simulated time would reach 10485760 s, past the simulated-time horizon") != std::string::npos);
  CHECK(!exists(out + "/summary.json"));
  // Just inside the horizon the time is exact (to the library's microseconds of latency)
  // and busbw is the library's share of the link rate: 1.5 x 4.8e7 B / (10 B/s x 0.8).
  o = run_cli("run -t topologies/grayskull-4.yaml -w test/data/cli/allreduce-64mib.yaml -o " + out + slow +
              " --set 'workload.ops.0.bytes=48000000 B'");
  REQUIRE(o.rc == 0);
  auto row = nlohmann::json::parse(slurp(out + "/summary.json"))["microbench"][0];
  CHECK(std::fabs(row["time_s"].get<double>() - 9e6) < 1e-3);
  CHECK(row["busbw_bytes_per_s"].get<double>() <= 8.0);
  CHECK(row["busbw_bytes_per_s"].get<double>() > 7.99);
}

TEST_CASE("invalid UTF-8: refused in YAML and --set at its position, replaced in a file name", "[cli16]") {
  std::string out = make_tmpdir("utf8");
  // `check` accepted it; `run` simulated, then exit 1 with a JSON library error.
  Outcome o = run_cli("run -t test/bad-inputs/topo-name-invalid-utf8.yaml -w workloads/microbench-gemm.yaml -o " + out);
  one_error_line(o, "topo-name-invalid-utf8.yaml:3:12: invalid UTF-8 (byte 0xff)");
  CHECK(!exists(out + "/summary.json"));
  o = run_cli("check topologies/dgx-h100.yaml --set 'topology.name=dgx-\xff'");
  one_error_line(o, "--set:1:19: 'topology.name': the value is not valid UTF-8");
  // A workload file name is not ours to refuse: summary.json carries U+FFFD instead.
  std::string wl = out + "/gemm-\xff.yaml";
  { std::ofstream(wl) << slurp(kRoot + "/workloads/microbench-gemm.yaml"); }
  o = run_cli("run -t topologies/dgx-h100.yaml -w '" + wl + "' -o " + out + " --quiet");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  auto summary = nlohmann::json::parse(slurp(out + "/summary.json"));
  CHECK(summary["workload"] == "gemm-\xEF\xBF\xBD");
}

TEST_CASE("a misspelt required key is named with a did-you-mean, not reported as missing", "[cli16]") {
  one_error_line(
      run_cli("check test/bad-inputs/topo-misspelt-device.yaml"),
      "topo-misspelt-device.yaml:3:1: topology: unknown field 'devcie' (did you mean 'device'? it is required)");
  one_error_line(
      run_cli("check test/bad-inputs/topo-misspelt-bandwidth.yaml"),
      "topo-misspelt-bandwidth.yaml:6:56: fabrics[0].link: unknown field 'bandwith' (did you mean 'bandwidth'?");
  // Really missing: still "missing required field".
  one_error_line(run_cli("check test/bad-inputs/topo-missing-device.yaml"), "missing required field 'device'");
}

TEST_CASE("an unknown key given through --set points at the --set argument, not the base file's 1:1", "[cli16][yaml]") {
  const std::string wl = "check test/data/cli/serve-disagg.yaml ";
  // Top-level: the key starts after "workload." (column 10) of the first --set argument.
  one_error_line(run_cli(wl + "--set workload.rooter=least-loaded"), "--set:1:10: workload: unknown field 'rooter'");
  // Nested, in the second argument: "workload.scheduler." is 19 characters.
  one_error_line(run_cli(wl + "--set workload.dtype=bf16 --set workload.scheduler.max_batchh=8"),
                 "--set:2:20: workload.scheduler: unknown field 'max_batchh' (did you mean 'max_batch'?)");
  // A key inside a map value: "workload.slo=" is 13 characters, "{ttft: 1 s, " 12 more.
  one_error_line(run_cli(wl + "--set 'workload.slo={ttft: 1 s, tpo: 2 ms}'"),
                 "--set:1:26: workload.slo: unknown field 'tpo'");
  // Keys added through --set that are known still run, and config.resolved.yaml shows them plainly.
  std::string out = make_tmpdir("setkeys");
  Outcome o = run_cli("run --quiet -t topologies/dgx-h100.yaml -w test/data/cli/serve-disagg.yaml -o " + out +
                      " --set 'workload.slo.ttft=1 s'");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  std::string resolved = slurp(out + "/config.resolved.yaml");
  CHECK(resolved.find("  slo:\n    ttft: 1 s\n") != std::string::npos);
  CHECK(resolved.find("llmsim-set") == std::string::npos);
}

}  // namespace test_cli_inputs
