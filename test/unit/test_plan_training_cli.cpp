// `llmsim plan` with a training service (issue 15 item 2): bad input exits 2 at the
// position with no output folder; a system where no configuration fits memory is reported
// per system (exit 0), pruned without a single simulation. The searches (brute force,
// prices) are Python: test/scripts/test_plan_training.py, registered in test_sweep.cpp.
#include <catch2/catch.hpp>

#include <fstream>

#include "cli_outcome.h"

namespace test_plan_training_cli {

using namespace llmsim_test;

namespace {

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

const char* const kHead = "kind: training-service\nmodel: llama-3.1-8b\n";
const char* const kTraining = "training: {tokens: 15T, seq_len: 8192, global_batch: 512}\n";

Outcome plan(const std::string& dir, const std::string& service) {
  return llmsim_test::run_cli("plan -w " + service + " -t topologies/dgx-h100.yaml -o " + dir + "/out");
}

}  // namespace

TEST_CASE("plan training: bad input exits 2 at the field, nothing written", "[plan][cli][training]") {
  std::string d = make_tmpdir("tplan-bad");
  auto o =
      plan(d, write(d, "a.yaml", std::string(kHead) + "training: {tokens: lots, seq_len: 8192, global_batch: 8}\n"));
  one_error_line(o, "tokens");
  CHECK(o.text.find("a.yaml:3:") != std::string::npos);
  o = plan(d, write(d, "b.yaml", std::string(kHead) + kTraining + "deadline: 90 GB\n"));
  one_error_line(o, "deadline");
  CHECK(o.text.find("b.yaml:4:") != std::string::npos);
  o = plan(d, write(d, "c.yaml", std::string(kHead) + kTraining + "search: {schedule: [zigzag]}\n"));
  one_error_line(o, "zigzag");
  CHECK(o.text.find("c.yaml:4:") != std::string::npos);
  o = plan(d, write(d, "e.yaml", std::string(kHead) + kTraining + "search: {zero: [4]}\n"));
  one_error_line(o, "zero");
  o = plan(d, write(d, "f.yaml", std::string(kHead) + kTraining + "budget: -5\n"));
  one_error_line(o, "budget");
  o = plan(d, write(d, "g.yaml", std::string(kHead) + kTraining + "speed: fast\n"));
  one_error_line(o, "speed");
  o = plan(d, write(d, "j.yaml", std::string(kHead) + kTraining + "search: {global_batch: [512, 0]}\n"));
  one_error_line(o, "global_batch");
  CHECK(o.text.find("j.yaml:4:") != std::string::npos);
  o = plan(d, write(d, "h.yaml", std::string(kHead) + "training: {tokens: 1T, seq_len: 999999, global_batch: 8}\n"));
  one_error_line(o, "seq_len");
  o = plan(d, write(d, "i.yaml",
                    std::string(kHead) + kTraining + "search: {schedule: [interleaved-1f1b], virtual_stages: 1}\n"));
  one_error_line(o, "contradictory");
  CHECK_FALSE(exists(d + "/out"));
}

TEST_CASE("plan training: a system where nothing fits is reported per system, not an error", "[plan][cli][training]") {
  std::string d = make_tmpdir("tplan-nofit");
  // Llama 3.1 70B: 16 bytes of weights, gradients and Adam states per parameter (1.1 TB)
  // before activations; four Grayskull e150 hold 4 x 8 GB even with ZeRO-3 sharding.
  std::string svc = write(d, "s.yaml",
                          "kind: training-service\nmodel: llama-3.1-70b\n"
                          "training: {tokens: 1T, seq_len: 4096, global_batch: 64}\ndeadline: 90 days\n"
                          "search: {zero: [1, 3], recompute: [full]}\n");
  std::string p = write(d, "p.yaml",
                        "kind: prices\nchips:\n  - {chip: tenstorrent-grayskull-e150, per_device_hour: 1, "
                        "date: x, source: y}\n");
  auto o =
      llmsim_test::run_cli("plan -w " + svc + " -t topologies/grayskull-4.yaml topologies/dgx-h100.yaml --prices " + p +
                           " -o " + d + "/out -j 1");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  std::string md = slurp(d + "/out/plan.md"), csv = slurp(d + "/out/plan.csv");
  CHECK(md.find("| grayskull-4 | tenstorrent-grayskull-e150 | infeasible: memory: stage") != std::string::npos);
  CHECK(md.find("infeasible: no price for nvidia-h100-sxm") != std::string::npos);
  CHECK(md.find("No configuration meets the deadline") != std::string::npos);
  CHECK(csv.find("memory: stage") != std::string::npos);
  CHECK_FALSE(exists(d + "/out/runs/points"));  // pruned by memory: nothing simulated
}

}  // namespace test_plan_training_cli
