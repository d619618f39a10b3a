// [inference][speculative] Speculative decoding without the simulator: the acceptance draw
// against the closed form of Leviathan et al. [SPEC-LEVIATHAN] (expected tokens per step
// (1 - a^(k+1)) / (1 - a)), the scheduler's multi-token steps and block accounting, k = 0
// as plain decoding, and the verification / draft / head shapes.
#include <catch2/catch.hpp>

#include <cmath>

#include "sim/workloads/inference/lowering.h"
#include "sim/workloads/inference/scheduler.h"
#include "sim/workloads/inference/speculative.h"

namespace test_inference_speculative {

using namespace llmsim;

namespace {

SpeculativeConfig fixed(double a, std::int64_t k) {
  SpeculativeConfig s;
  s.on = true;
  s.heads = k;
  s.k = k;
  s.acceptance.assign(static_cast<std::size_t>(k), a);
  return s;
}

// Mean tokens per step (accepted + 1) over `n` draws for one request.
double mean_tokens(const SpeculativeConfig& s, std::int64_t n, std::uint64_t seed = 7) {
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(draw_accepted(s, seed, 3, i) + 1);
  return sum / static_cast<double>(n);
}

// Runs a scheduler until idle; returns the iterations and fills the per-iteration tokens.
std::int64_t drain(ReplicaScheduler& s, std::vector<std::int64_t>* tokens = nullptr) {
  std::int64_t iters = 0;
  IterationShape shape;
  while (s.plan(shape)) {
    if (tokens) tokens->push_back(shape.tokens());
    std::vector<std::size_t> first, done;
    s.complete(first, done);
    ++iters;
    REQUIRE(iters < 100000);
  }
  return iters;
}

}  // namespace

TEST_CASE("speculative draw: tokens per step follow (1 - a^(k+1)) / (1 - a)", "[inference][speculative]") {
  for (double a : {0.5, 0.7, 0.9}) {
    for (std::int64_t k : {1, 4, 7}) {
      const double expect = (1 - std::pow(a, static_cast<double>(k + 1))) / (1 - a);
      INFO("a " << a << " k " << k);
      // 200k draws: the standard error of the mean is under 0.3 % of it.
      CHECK(mean_tokens(fixed(a, k), 200000) == Approx(expect).epsilon(0.01));
    }
  }
}

TEST_CASE("speculative draw: edges and per-position rates and determinism", "[inference][speculative]") {
  for (std::int64_t i = 0; i < 1000; ++i) {
    CHECK(draw_accepted(fixed(0.0, 4), 1, 9, i) == 0);
    CHECK(draw_accepted(fixed(1.0, 4), 1, 9, i) == 4);
  }
  // Per position: E[tokens] = 1 + a1 + a1 a2 + a1 a2 a3 (accepting i needs all before it).
  SpeculativeConfig p = fixed(0, 3);
  p.acceptance = {0.9, 0.6, 0.3};
  CHECK(mean_tokens(p, 200000) == Approx(1 + 0.9 + 0.9 * 0.6 + 0.9 * 0.6 * 0.3).epsilon(0.01));
  // Same (seed, request, step): same draw; another seed: another sequence.
  SpeculativeConfig s = fixed(0.7, 4);
  std::int64_t differ = 0;
  for (std::int64_t i = 0; i < 200; ++i) {
    CHECK(draw_accepted(s, 5, 2, i) == draw_accepted(s, 5, 2, i));
    differ += draw_accepted(s, 5, 2, i) != draw_accepted(s, 6, 2, i);
  }
  CHECK(differ > 50);
}

TEST_CASE("speculative scheduler: k = 0 is plain decoding", "[inference][speculative]") {
  SchedulerConfig c;
  c.max_batch = 8;
  c.max_batched_tokens = 64;
  c.block_size = 4;
  c.max_context = 4096;
  ReplicaScheduler plain(c, 200), spec(c, 200);
  spec.set_speculation(0, [](std::size_t, std::int64_t) -> std::int64_t { return 0; });
  for (std::size_t r = 0; r < 12; ++r) {
    plain.enqueue(r, 20 + 7 * static_cast<std::int64_t>(r), 30 + static_cast<std::int64_t>(r));
    spec.enqueue(r, 20 + 7 * static_cast<std::int64_t>(r), 30 + static_cast<std::int64_t>(r));
  }
  std::vector<std::int64_t> a, b;
  CHECK(drain(plain, &a) == drain(spec, &b));
  CHECK(a == b);
  CHECK(plain.preemptions() == spec.preemptions());
}

TEST_CASE("speculative scheduler: accepted + 1 tokens capped at the output and rejected slots returned", "[inference][speculative]") {
  SchedulerConfig c;
  c.max_batch = 4;
  c.max_batched_tokens = 256;
  c.block_size = 4;
  c.max_context = 4096;
  const std::int64_t k = 4, output = 23;
  ReplicaScheduler s(c, 1000);
  // Always 2 accepted: 3 tokens a step.
  s.set_speculation(k, [](std::size_t, std::int64_t) -> std::int64_t { return 2; });
  s.enqueue(0, 10, output);
  IterationShape shape;
  REQUIRE(s.plan(shape));  // prefill of 10 -> first token
  std::vector<std::size_t> first, done;
  s.complete(first, done);
  REQUIRE(first.size() == 1);
  std::int64_t generated = 1, steps = 0;
  while (s.plan(shape)) {
    // Verification: k + 1 positions over the context plus the proposals.
    CHECK(shape.decode == 1);
    CHECK(shape.decode_q == k + 1);
    CHECK(shape.tokens() == k + 1);
    CHECK(shape.decode_kv == 10 + generated - 1 + 1 + k);
    CHECK(shape.logit_rows() == k + 1);
    s.complete(first, done);
    ++steps;
    REQUIRE(s.emitted_tokens().size() == 1);
    generated += s.emitted_tokens()[0];
    if (done.empty()) {
      // The KV holds prompt + generated - 1 tokens (the newest token's KV is written by the
      // next step); blocks beyond them were returned.
      CHECK(s.free_blocks() == 1000 - (10 + generated - 1 + 3) / 4);
    }
  }
  CHECK(generated == output);
  // 22 tokens after the first at 3 a step: 7 full steps + 1 capped at 1.
  CHECK(steps == 8);
  CHECK(s.speculative_stats().steps == 8);
  CHECK(s.speculative_stats().tokens == 22);
  CHECK(s.free_blocks() == 1000);
}

TEST_CASE("speculative shapes: draft forwards and Medusa heads", "[inference][speculative]") {
  IterationShape v;
  v.decode = 10;
  v.decode_q = 5;
  v.decode_kv = 10 * (100 + 5);
  v.prefill.push_back({64, 64});
  v.emitting = 10;
  auto d = draft_shapes(v, 4);
  REQUIRE(d.size() == 4);
  CHECK(d[0].prefill.size() == 1);  // the draft prefills the prompt chunk too
  CHECK(d[0].tokens() == 64 + 10);
  for (std::size_t j = 0; j < d.size(); ++j) {
    CHECK(d[j].decode_q == 1);
    CHECK(d[j].decode_kv == 10 * (100 + 1 + static_cast<std::int64_t>(j)));
  }
  CHECK(d[3].prefill.empty());
  IterationShape only_prefill;
  only_prefill.prefill.push_back({64, 64});
  CHECK(draft_shapes(only_prefill, 4).size() == 1);

  // Medusa-1 heads on Llama 3.1 8B: each a 4096^2 residual block + a 4096 x 128256 LM
  // head (Medusa §2.1.1): 4 heads = 2.17e9 parameters.
  SpeculativeConfig h = fixed(0.7, 4);
  ModelSpec m = load_model_ref("llama-3.1-8b");
  CHECK(speculative_head_params(h, m) == Approx(4 * (4096.0 * 4096 + 4096.0 * 128256)));
  CHECK(speculative_kv_bytes_per_token(h, 1, 2) == 0);
  auto ops = head_ops(h, m, 2, 10, "bf16", false);
  REQUIRE(ops.size() == 2);
  CHECK(ops[1].m == 10);
  CHECK(ops[1].n == 128256 / 2);
  CHECK(ops[1].batch == 4);
  // A draft model's KV per token per device: 2 (K, V) x layers x KV heads / tp x head_dim x bytes.
  SpeculativeConfig dm;
  dm.on = true;
  dm.k = 4;
  dm.draft = load_model_ref("llama-3.2-3b");
  CHECK(speculative_kv_bytes_per_token(dm, 2, 2) == Approx(2.0 * 28 * 4 * 128 * 2));
}

}  // namespace test_inference_speculative
