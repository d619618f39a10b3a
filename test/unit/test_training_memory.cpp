// Training memory arithmetic (sim/workloads/training/memory.h) against the published
// formulas it rests on, each computed here from the paper's own expression.
#include <catch2/catch.hpp>

#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/memory.h"

namespace test_training_memory {

using namespace llmsim;

namespace {

TrainingConfig config(const std::string& extra, const std::string& model = "gpt-3-175b") {
  // `extra` may set seq_len or global_batch itself (a repeated key is an error).
  std::string text = "kind: training\nmodel: " + model + "\n" + extra;
  if (extra.find("seq_len:") == std::string::npos) text += "seq_len: 2048\n";
  if (extra.find("global_batch:") == std::string::npos) text += "global_batch: 64\n";
  Topology none;
  return parse_training(parse_doc(text, "train.yaml"), none);
}

const double kGiB = 1024.0 * 1024 * 1024;

}  // namespace

TEST_CASE("training activations per layer follow Korthikanti et al. Table 2", "[training]") {
  // GPT-3 175B (MHA, 4h GELU MLP: the paper's own layout), s = 2048, b = 1, h = 12288.
  const double s = 2048, b = 1, h = 12288, t = 8;
  SECTION("tensor parallel only: sbh (10 + 24/t)") {
    auto c = config("parallelism: {tp: 8, pp: 1, dp: 1}\n");
    CHECK(layer_activation_bytes(c) == Approx(s * b * h * (10 + 24 / t)).epsilon(1e-12));
  }
  SECTION("with sequence parallelism: sbh 34/t") {
    auto c = config("parallelism: {tp: 8, sequence_parallel: true}\n");
    CHECK(layer_activation_bytes(c) == Approx(s * b * h * 34 / t).epsilon(1e-12));
  }
  SECTION("full recompute keeps the layer input: 2sbh (/t with sequence parallelism)") {
    auto c = config("parallelism: {tp: 8, recompute: full}\n");
    CHECK(layer_activation_bytes(c) == Approx(2 * s * b * h));
    auto sp = config("parallelism: {tp: 8, recompute: full, sequence_parallel: true}\n");
    CHECK(layer_activation_bytes(sp) == Approx(2 * s * b * h / t));
  }
  SECTION("micro_batch scales it linearly") {
    auto one = config("parallelism: {tp: 8}\n");
    auto four = config("micro_batch: 4\nparallelism: {tp: 8, dp: 1}\n");
    CHECK(layer_activation_bytes(four) == Approx(4 * layer_activation_bytes(one)));
  }
}

TEST_CASE("pipeline schedules hold the activations their warm-up implies", "[training]") {
  // p = 8 stages, m = 64 / (1 x 1) = 64 micro-batches.
  auto f = config("parallelism: {pp: 8, schedule: 1f1b}\n");
  auto g = config("parallelism: {pp: 8, schedule: gpipe}\n");
  auto mf = training_memory(f), mg = training_memory(g);
  // 1F1B: stage s holds p - s micro-batches; GPipe: all m. First-stage ratio = m / p.
  CHECK(mf[0].in_flight == 8);
  CHECK(mf[7].in_flight == 1);
  CHECK(mg[0].in_flight == 64);
  const double per_layer_mb = layer_activation_bytes(f) * 12;  // 96 layers / 8 stages
  CHECK(mg[0].activations / mf[0].activations == Approx(64.0 / 8).epsilon(1e-9));
  CHECK(mf[0].activations == Approx(8 * per_layer_mb));
  // Interleaved with v chunks: first stage p (1 + (p - 1)/(p v)) (Korthikanti §4.2).
  auto i = config("parallelism: {pp: 8, schedule: interleaved-1f1b, virtual_stages: 4}\n");
  CHECK(training_memory(i)[0].in_flight == Approx(8 * (1 + 7.0 / (8 * 4))));
}

TEST_CASE("ZeRO stages shard optimizer, gradients, then weights over dp", "[training]") {
  // ZeRO paper (Rajbhandari et al. SC'20) §3.1 / Figure 1: per parameter 2 + 2 + 12 bytes;
  // stage 1 divides the 12 by N_d, stage 2 also the gradients' 2, stage 3 the weights' 2.
  auto z0 = config("parallelism: {tp: 8, dp: 8, zero: 0}\n"), z3 = config("parallelism: {tp: 8, dp: 8, zero: 3}\n");
  auto z1 = config("parallelism: {tp: 8, dp: 8, zero: 1}\n"), z2 = config("parallelism: {tp: 8, dp: 8, zero: 2}\n");
  const double psi = training_memory(z0)[0].params;
  auto states = [](const StageMemory& m) { return m.weights + m.gradients + m.optimizer; };
  CHECK(states(training_memory(z0)[0]) == Approx(16 * psi));
  CHECK(states(training_memory(z1)[0]) == Approx((2 + 2 + 12.0 / 8) * psi));
  CHECK(states(training_memory(z2)[0]) == Approx((2 + (2 + 12.0) / 8) * psi));
  CHECK(states(training_memory(z3)[0]) == Approx(16.0 / 8 * psi));
  // GPT-3's 175B over tp 8 (one stage): the layers' share is 96 x 12 h^2 / 8 (+ biases, norms).
  CHECK(psi == Approx((96 * 12.0 * 12288 * 12288 + 50257.0 * 12288 + 2048.0 * 12288) / 8).epsilon(0.01));
}

TEST_CASE("Llama 3.1 70B with Adam: 8 x 80 GB does not fit without ZeRO, 64 with ZeRO-3 does", "[training]") {
  ChipSpec chip;
  chip.name = "test-80g";
  MemoryTierSpec hbm;
  hbm.tier = "hbm";
  hbm.capacity = 80e9;
  chip.memory.push_back(hbm);
  chip.placement.weights = "hbm";
  auto c = config("seq_len: 8192\nparallelism: {tp: 8, dp: 1}\n", "llama-3.1-70b");
  // 70.6e9 parameters x 16 bytes / 8 devices = 141 GB of states alone.
  try {
    check_training_fits(c, chip);
    FAIL("expected InfeasibleError");
  } catch (const InfeasibleError& e) {
    std::string w = e.what();
    CHECK(w.find("optimizer") != std::string::npos);
    CHECK(w.find("GiB") != std::string::npos);
  }
  auto z3 = config("global_batch: 64\nparallelism: {tp: 1, dp: 64, zero: 3, recompute: full}\n", "llama-3.1-70b");
  CHECK_NOTHROW(check_training_fits(z3, chip));
  CHECK(training_memory(z3)[0].weights + training_memory(z3)[0].optimizer < 16 * 71e9 / 64);
  (void)kGiB;
}

TEST_CASE("training configs refuse what cannot be laid out", "[training]") {
  CHECK_THROWS_WITH(config("global_batch: 60\nparallelism: {dp: 8}\n"),
                    Catch::Contains("not a multiple of micro_batch x dp = 1 x 8 = 8"));
  CHECK_THROWS_WITH(config("parallelism: {tp: 7}\n"), Catch::Contains("must divide num_attention_heads"));
  CHECK_THROWS_WITH(config("parallelism: {pp: 100}\n"), Catch::Contains("exceeds the model's 96 layers"));
  CHECK_THROWS_WITH(config("parallelism: {pp: 8, schedule: interleaved-1f1b, virtual_stages: 5}\n"),
                    Catch::Contains("must divide the model's 96 layers"));
  CHECK_THROWS_WITH(config("parallelism: {schedule: zigzag}\n"), Catch::Contains("zigzag"));
  CHECK_THROWS_WITH(config("parallelism: {zero: 4}\n"), Catch::Contains("ZeRO stage must be 0, 1, 2 or 3"));
}

}  // namespace test_training_memory
