// [inference][vllm][swap] Swap preemption (vLLM preemption_mode: swap, scheduler.h): the
// swap count on a case derived by hand from vLLM V0's rules, the fall back to recompute
// when the host swap space is full, and through the binary the copy time = blocks x block
// bytes / PCIe bandwidth with the block's bytes derived from the model by hand.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"
#include "sim/workloads/inference/scheduler.h"

namespace test_swap_preempt {

using namespace llmsim;
using namespace llmsim_test;

namespace {

SchedulerConfig config() {
  SchedulerConfig c;
  c.max_batch = 64;
  c.max_batched_tokens = 4096;
  c.block_size = 10;
  c.max_context = 100000;
  c.watermark = 0;
  return c;
}

struct Run {
  std::int64_t preemptions = 0;
  ReplicaScheduler::SwapStats swap;
  std::vector<std::size_t> done;
  std::int64_t max_swap_in = 0;  // the most blocks one plan swapped in
};

// Two 100-token prompts (10 blocks each) with 30 output tokens, at once, on 21 blocks.
Run two_on_21_blocks(std::int64_t swap_blocks) {
  ReplicaScheduler s(config(), 21);
  s.set_swap_space(swap_blocks);
  s.enqueue(0, 100, 30);
  s.enqueue(1, 100, 30);
  IterationShape sh;
  std::vector<std::size_t> first;
  Run r;
  for (int n = 0; !s.idle() && n < 1000; ++n) {
    REQUIRE(s.plan(sh));
    r.max_swap_in = std::max(r.max_swap_in, s.planned_swap_in());
    s.complete(first, r.done);
  }
  REQUIRE(s.idle());
  r.preemptions = s.preemptions();
  r.swap = s.swap_stats();
  return r;
}

}  // namespace

TEST_CASE("swap preemption: the newest sequence's blocks go to host memory and come back once they fit",
          "[inference][vllm][swap]") {
  // By hand: both prompts are admitted (20 of 21 blocks) and prefilled; the first decode
  // step needs an 11th block for each: sequence 0 takes the last free one, sequence 1
  // finds none and, being the newest, is swapped out with its 10 blocks. It needs 11
  // blocks to come back (its 10 + the decode's slot) but sequence 0 grows to 13 blocks
  // (129 tokens) before finishing, leaving 8 free: sequence 1 returns only after 0 is done,
  // then fits (13 blocks at most) without another preemption. One swap each way, 10 blocks.
  Run r = two_on_21_blocks(1000);
  CHECK(r.preemptions == 1);
  CHECK(r.swap.outs == 1);
  CHECK(r.swap.ins == 1);
  CHECK(r.swap.blocks_out == 10);
  CHECK(r.swap.blocks_in == 10);
  CHECK(r.swap.fallbacks == 0);
  CHECK(r.max_swap_in == 10);
  CHECK(r.done == std::vector<std::size_t>{0, 1});
  // Host swap space for 9 blocks cannot take the 10: recompute instead (vLLM V0 would abort).
  Run full = two_on_21_blocks(9);
  CHECK(full.preemptions == 1);
  CHECK(full.swap.outs == 0);
  CHECK(full.swap.fallbacks == 1);
  CHECK(full.done == std::vector<std::size_t>{0, 1});
}

TEST_CASE("swap preemption through the binary: copy time is blocks x block bytes over PCIe", "[inference][swap]") {
  const std::string d = make_tmpdir("swap");
  // Llama 3.1 8B bf16, one replica per H100, with only 30 % of HBM for the engine: 32
  // requests of 3,000 tokens at once per replica need far more KV than is left.
  std::ofstream(d + "/swap.yaml")
      << "kind: inference\nmodel: llama-3.1-8b\ndtype: bf16\nparallelism: {tp: 1}\n"
         "scheduler: {memory_utilization: 0.3, preemption: swap}\n"
         "requests: {count: 256, arrival: at-once, prompt_tokens: 2000, output_tokens: 1000}\n";
  Outcome o = llmsim_test::run_cli("run --quiet -t topologies/dgx-h100.yaml -w " + d + "/swap.yaml -o " + d + "/out");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  auto inf = nlohmann::json::parse(slurp(d + "/out/summary.json"))["inference"];
  std::system(("rm -rf '" + d + "'").c_str());
  REQUIRE(inf["completed"] == 256);
  const auto& sw = inf["swap"];
  INFO(sw.dump());
  // A 16-token block on one device: 16 x 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes.
  const double block = 16.0 * 32 * 8 * 128 * 2 * 2;
  CHECK(sw["block_bytes_per_device"].get<double>() == Approx(block));
  // The H100's PCIe Gen5 x16 port: 64 GB/s per direction (topologies/devices).
  CHECK(sw["link_bandwidth_bytes_per_s"].get<double>() == 64e9);
  const double blocks = sw["blocks_out"].get<double>() + sw["blocks_in"].get<double>();
  CHECK(sw["swap_outs"].get<long long>() > 0);
  CHECK(sw["swap_ins"] == sw["swap_outs"]);  // everyone finished: each swapped-out sequence came back
  CHECK(sw["blocks_in"] == sw["blocks_out"]);
  CHECK(inf["preemptions"].get<long long>() >=
        sw["swap_outs"].get<long long>() + sw["recompute_fallbacks"].get<long long>());
  CHECK(sw["copy_s"].get<double>() == Approx(blocks * block / 64e9).epsilon(1e-9));
}

TEST_CASE("preemption and swap_space input errors name the field", "[inference][swap]") {
  const std::string d = make_tmpdir("swap-bad");
  std::ofstream(d + "/bad.yaml") << "kind: inference\nmodel: llama-3.1-8b\nscheduler: {preemption: swop}\n"
                                    "requests: {count: 4, arrival: at-once, prompt_tokens: 10, output_tokens: 2}\n";
  Outcome o = llmsim_test::run_cli("run --quiet -t topologies/dgx-h100.yaml -w " + d + "/bad.yaml -o " + d + "/out");
  std::system(("rm -rf '" + d + "'").c_str());
  CHECK(o.rc == 2);
  CHECK(o.text.find("preemption") != std::string::npos);
}

}  // namespace test_swap_preempt
