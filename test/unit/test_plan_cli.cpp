// `llmsim plan` (issue 15): bad service and prices files exit 2 with a position and leave
// no output folder; a system whose chip cannot hold the model is reported, not an error;
// the early-stop counter (SloWatch) stops exactly when the attainment is out of reach.
// The searches themselves (k replicas, monotonicity, pruning vs brute force) are Python:
// test/scripts/test_plan.py, registered in test_sweep.cpp.
#include <catch2/catch.hpp>

#include <fstream>

#include "cli_outcome.h"
#include "sim/workloads/inference/metrics.h"

namespace test_plan_cli {

using namespace llmsim_test;

namespace {

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

const char* const kHead =
    "kind: service\nmodel: llama-3.2-3b\ndtypes: [bf16]\n"
    "traffic: {requests: {count: 20, rate: 2/s, prompt_tokens: 100, output_tokens: 20}}\n";

Outcome plan(const std::string& dir, const std::string& service, const std::string& extra = "") {
  return llmsim_test::run_cli("plan -w " + service + " -t topologies/dgx-h100.yaml -o " + dir + "/out " + extra);
}

}  // namespace

TEST_CASE("plan: targets that are not latencies or fractions exit 2 at the field", "[plan][cli]") {
  std::string d = make_tmpdir("plan-bad");
  auto o = plan(d, write(d, "a.yaml", std::string(kHead) + "targets: {ttft_p99: 2 GB}\n"));
  one_error_line(o, "ttft_p99");
  o = plan(d, write(d, "b.yaml", std::string(kHead) + "targets: {ttft_p99: 2 s, attainment: 1.5}\n"));
  one_error_line(o, "attainment");
  o = plan(d, write(d, "c.yaml", std::string(kHead) + "targets: {attainment: 0.9}\n"));
  one_error_line(o, "give at least one");
  o = plan(d, write(d, "d.yaml", std::string(kHead) + "targets: {}\n"));
  one_error_line(o, "at least one of ttft_p99");
  o = plan(d, write(d, "e.yaml", std::string(kHead) + "targets: {ttft_p99: 2 s}\nspeed: fast\n"));
  one_error_line(o, "speed");
  CHECK_FALSE(exists(d + "/out"));  // no partial output
}

TEST_CASE("plan: contradictory constraints exit 2 with the position", "[plan][cli]") {
  std::string d = make_tmpdir("plan-contra");
  auto o = plan(d, write(d, "a.yaml", std::string(kHead) + "targets: {ttft_p99: 2 s, e2e_p99: 1 s}\n"));
  one_error_line(o, "contradictory");
  o = plan(d, write(d, "b.yaml",
                    std::string(kHead) +
                        "targets: {ttft_p99: 2 s}\nsearch: {max_batch: [256], max_batched_tokens: [128]}\n"));
  one_error_line(o, "contradictory");
  o = plan(d, write(d, "c.yaml", std::string(kHead) + "targets: {ttft_p99: 2 s}\nsearch: {tp: [0]}\n"));
  one_error_line(o, "whole numbers >= 1");
  o = plan(d, write(d, "d.yaml", std::string(kHead) + "targets: {ttft_p99: 2 s}\nsearch: {prefill_share: [1]}\n"));
  one_error_line(o, "prefill_share");
  CHECK_FALSE(exists(d + "/out"));
}

TEST_CASE("plan: prices for an unknown chip, or without a source, exit 2 at the entry", "[plan][cli]") {
  std::string d = make_tmpdir("plan-prices");
  std::string svc = write(d, "s.yaml", std::string(kHead) + "targets: {ttft_p99: 2 s}\n");
  std::string p = write(d, "p.yaml",
                        "kind: prices\nchips:\n  - {chip: nvidia-h100-sxm, per_device_hour: 2, date: x, source: y}\n"
                        "  - {chip: nvidia-h900, per_device_hour: 2, date: x, source: y}\n");
  auto o = plan(d, svc, "--prices " + p);
  INFO(o.text);
  CHECK(o.rc == 2);  // one error line, then the catalog's did-you-mean hint line
  CHECK(o.text.rfind("llmsim: error: " + p + ":4:", 0) == 0);
  CHECK(o.text.find("nvidia-h900") != std::string::npos);
  p = write(d, "q.yaml", "kind: prices\nchips:\n  - {chip: nvidia-h100-sxm, per_device_hour: 2, date: x}\n");
  one_error_line(plan(d, svc, "--prices " + p), "source");
  p = write(d, "r.yaml",
            "kind: prices\nchips:\n  - {chip: nvidia-h100-sxm, per_device_hour: -2, date: x, source: y}\n");
  one_error_line(plan(d, svc, "--prices " + p), "per_device_hour");
  CHECK_FALSE(exists(d + "/out"));
}

TEST_CASE("plan: a chip that cannot hold the model is reported per system, not an error", "[plan][cli]") {
  std::string d = make_tmpdir("plan-nofit");
  // Llama 3.1 70B in bf16 is 141 GB of weights; four Grayskull e150 hold 4 x 8 GB.
  std::string svc = write(d, "s.yaml",
                          "kind: service\nmodel: llama-3.1-70b\ndtypes: [bf16]\n"
                          "traffic: {requests: {count: 20, rate: 1/s, prompt_tokens: 100, output_tokens: 20}}\n"
                          "targets: {ttft_p99: 2 s}\n");
  std::string p = write(d, "p.yaml",
                        "kind: prices\nchips:\n  - {chip: tenstorrent-grayskull-e150, per_device_hour: 1, "
                        "date: x, source: y}\n");
  auto o = llmsim_test::run_cli("plan -w " + svc + " -t topologies/grayskull-4.yaml --prices " + p + " -o " + d +
                                "/out -j 1");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  std::string md = slurp(d + "/out/plan.md"), csv = slurp(d + "/out/plan.csv");
  CHECK(md.find("infeasible: memory: weights") != std::string::npos);
  CHECK(md.find("No configuration meets the targets") != std::string::npos);
  CHECK(csv.find("memory: weights") != std::string::npos);
  // Without --prices the shipped example applies and plan.md says so.
  auto e = llmsim_test::run_cli("plan -w " + svc + " -t topologies/grayskull-4.yaml -o " + d + "/ex -j 1");
  REQUIRE(e.rc == 0);
  CHECK(slurp(d + "/ex/plan.md").find("the shipped example") != std::string::npos);
  CHECK(slurp(d + "/ex/plan.md").find("infeasible: memory: weights") != std::string::npos);
  // A chip without a price is reported, not simulated.
  p = write(d, "q.yaml", "kind: prices\nchips:\n  - {chip: nvidia-h100-sxm, per_device_hour: 1, date: x, source: y}\n");
  auto n = llmsim_test::run_cli("plan -w " + svc + " -t topologies/grayskull-4.yaml --prices " + p + " -o " + d +
                                "/np -j 1");
  REQUIRE(n.rc == 0);
  CHECK(slurp(d + "/np/plan.md").find("infeasible: no price for tenstorrent-grayskull-e150") != std::string::npos);
}

TEST_CASE("plan: SloWatch stops once more than (1 - attainment) of all requests missed", "[plan]") {
  using llmsim::SloTargets;
  using llmsim::SloWatch;
  std::string why;
  // 200 requests at 0.99: 2 misses allowed (198 / 200 = 0.99 still meets), the 3rd is one too many.
  SloWatch w(SloTargets{1.0, 0.1}, 0.99, 200);
  w.first_token(0, 1.5);  // TTFT miss
  w.done(0, 0.5);         // the same request again: still one miss
  w.rejected(1);
  CHECK_FALSE(w.unmeetable(why));
  w.first_token(2, 0.5);  // within the bound: no miss
  w.done(2, 0.05);
  CHECK_FALSE(w.unmeetable(why));
  w.done(3, 0.2);  // TPOT miss: the third
  CHECK(w.unmeetable(why));
  CHECK(why.find("3 of 200") != std::string::npos);
  // No bound on a metric: never a miss on it; no watch at all: never stops.
  SloWatch t(SloTargets{-1, 0.1}, 0.5, 2);
  t.first_token(0, 100.0);
  CHECK_FALSE(t.unmeetable(why));
  SloWatch none;
  CHECK_FALSE(none.unmeetable(why));
}

}  // namespace test_plan_cli
