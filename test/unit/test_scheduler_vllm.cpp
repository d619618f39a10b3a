// [inference][vllm] Scheduler conformance with vLLM v0.6's V0 engine (scheduler.h): the
// admission watermark, prompt-only block allocation at admission, recompute preemption,
// on cases whose counts follow by hand from vLLM's rules.
#include <catch2/catch.hpp>

#include "sim/workloads/inference/scheduler.h"

namespace test_scheduler_vllm {

using namespace llmsim;

namespace {

SchedulerConfig config(double watermark) {
  SchedulerConfig c;
  c.max_batch = 64;
  c.max_batched_tokens = 4096;
  c.block_size = 10;
  c.max_context = 100000;
  c.watermark = watermark;
  return c;
}

// Ten 100-token prompts (10 blocks each) with 2 output tokens, at once, on 100 blocks;
// returns the preemptions of the run and the sequences admitted by the first plan.
std::pair<std::int64_t, std::size_t> ten_at_once(double watermark) {
  ReplicaScheduler s(config(watermark), 100);
  for (std::size_t i = 0; i < 10; ++i) s.enqueue(i, 100, 2);
  IterationShape sh;
  std::vector<std::size_t> first, done;
  REQUIRE(s.plan(sh));
  const std::size_t admitted = s.running();
  int guard = 0;
  do {
    s.complete(first, done);
  } while (!s.idle() && guard++ < 100 && s.plan(sh));
  REQUIRE(done.size() == 10);
  return {s.preemptions(), admitted};
}

}  // namespace

TEST_CASE("vLLM watermark: admission leaves int(0.01 x blocks) free, that avoids the preemption", "[inference][vllm]") {
  // Without a watermark all ten are admitted (10 x 10 = 100 blocks, none left). Their
  // first decode (token 101 starts block 11) finds no block: the newest is preempted (its
  // 10 blocks freed), the nine others take one each. One preemption.
  auto [pre0, adm0] = ten_at_once(0.0);
  CHECK(adm0 == 10);
  CHECK(pre0 == 1);
  // Watermark 0.05: int(0.05 x 100) = 5 blocks must stay free after an admission: the
  // tenth would leave 0 < 5 and waits (vLLM AllocStatus.LATER). The nine decode into 9 of
  // the 10 free blocks, finish, and the tenth runs alone. No preemption.
  auto [pre5, adm5] = ten_at_once(0.05);
  CHECK(adm5 == 9);
  CHECK(pre5 == 0);
  // vLLM's default 0.01 of 100 blocks is int(1.0) = 1 block: nine admitted as well.
  CHECK(ten_at_once(0.01).second == 9);
}

TEST_CASE("vLLM watermark: a prompt that leaves less than the watermark even in an empty cache never fits", "[inference][vllm]") {
  // 1,000 blocks, watermark 0.01 = 10 blocks: a prompt of 991 blocks (9,910 tokens) leaves
  // 9 < 10 (AllocStatus.NEVER: rejected); 990 blocks leave exactly 10 (admitted).
  SchedulerConfig c = config(0.01);
  c.max_batched_tokens = 20000;
  ReplicaScheduler s(c, 1000);
  CHECK_FALSE(s.can_ever_fit(9910, 1));
  CHECK(s.can_ever_fit(9900, 1));
  s.enqueue(0, 9900, 1);
  IterationShape sh;
  REQUIRE(s.plan(sh));
  CHECK(s.free_blocks() == 10);
}

}  // namespace test_scheduler_vllm
