// Requests arriving in one instant join their replica's queue together: the engine's next
// step schedules all of them (an engine steps on what has arrived; a batch submitted at
// once, as throughput benchmarks do, is one batch), not the first request alone.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_outcome.h"

namespace test_inference_arrival_batch {

using namespace llmsim_test;

TEST_CASE("requests arriving at once share the first step: equal TTFT, one prefill step", "[inference]") {
  const std::string dir = make_tmpdir("arrival-batch");
  const std::string wl = dir + "/at-once.yaml";
  // One TP-8 replica; 8 prompts of 64 tokens fit one step's token budget and batch.
  std::ofstream(wl) << "kind: inference\nmodel: llama-3.1-8b\ndtype: bf16\nparallelism: {tp: 8, pp: 1}\n"
                    << "scheduler: {max_batch: 64, max_batched_tokens: 8192}\n"
                    << "requests: {count: 8, arrival: at-once, prompt_tokens: 64, output_tokens: 4, seed: 1}\n";
  Outcome o = run_cli("run --quiet -t topologies/dgx-h100.yaml -w " + wl + " -o " + dir + "/out");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  const auto inf = nlohmann::json::parse(slurp(dir + "/out/summary.json"))["inference"];
  REQUIRE(inf["completed"] == 8);
  // One step prefills all eight and emits their first tokens; three decode steps follow.
  CHECK(inf["iterations"] == 4);
  const auto first = csv_column(slurp(dir + "/out/requests.csv"), "first_token_s");
  REQUIRE(first.size() == 8);
  for (double t : first) CHECK(t == first.front());
}

}  // namespace test_inference_arrival_batch
