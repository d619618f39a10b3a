// [inference] The vocab-sharded LM head's logits are all-gathered over the TP group before
// sampling (docs/inference.md, "Execution"). The expected cost comes from the same
// all-gathers run as microbenchmarks on the same two GPUs, not from the lowering.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "test/unit/cli_support.h"
#include "test/unit/tiny_model.h"

namespace test_inference_logits {

using namespace llmsim_test;

namespace {

const char* kTopology = "workloads/calibration/c21-h100-2.topology.yaml";  // 2 x H100, one switch

nlohmann::json run(const std::string& dir, const std::string& name, const std::string& yaml) {
  const std::string wl = dir + "/" + name + ".yaml", out = dir + "/" + name;
  {
    std::ofstream f(wl);
    f << yaml;
  }
  REQUIRE(run_llmsim(std::string("run --quiet -t ") + kTopology + " -w " + wl + " -o " + out, out + ".log") == 0);
  return nlohmann::json::parse(slurp(out + "/summary.json"));
}

}  // namespace

TEST_CASE("inference: each step all-gathers its logit rows over the TP group", "[inference][cli]") {
  const std::string dir = make_tmpdir("logits");
  auto comm = [&](long vocab) {
    const std::string v = std::to_string(vocab);
    const std::string model = write_tiny_model(dir, "tiny" + v, 2, vocab);
    const nlohmann::json s =
        run(dir, "serve" + v,
            "kind: inference\nmodel: " + model +
                "\ndtype: bf16\nsoftware: vllm-cuda\nparallelism: {tp: 2, pp: 1}\n"
                "requests: {count: 1, arrival: at-once, prompt_tokens: 16, output_tokens: 8, seed: 1}\n");
    REQUIRE(s.at("inference").at("iterations").get<int>() == 8);  // one prefill, seven decodes: one logit row each
    return s.at("inference").at("time_split").at("communication_s").get<double>();
  };
  auto all_gather = [&](long vocab) {  // one row of 16-bit logits over both GPUs
    const std::string b = std::to_string(vocab * 2);
    const nlohmann::json s =
        run(dir, "gather" + b,
            "kind: microbench\nsoftware: vllm-cuda\nops:\n  - {op: allgather, bytes: " + b + " B, group: all}\n");
    return s.at("microbench").at(0).at("time_s").get<double>();
  };
  // Only the LM head's width differs between the two models: the all-reduces of the two
  // layers are the same, so the communication added by the larger vocabulary is eight
  // steps' all-gathers of the larger rows less eight of the smaller.
  const long small = 262144, large = 1048576;
  const double added = comm(large) - comm(small);
  const double expected = 8 * (all_gather(large) - all_gather(small));
  REQUIRE(expected > 0);
  CHECK(added == Approx(expected).epsilon(0.01));
}

}  // namespace test_inference_logits
