// [training] An explicit uneven layer split (`parallelism.stage_layers`, Llama 3's
// first and last stages one layer short [LLAMA3-PP]) under the interleaved schedule: the
// split itself, its validation (exit 2, one positioned line), and the bubble against
// Narayanan et al.'s closed form (p-1)/(v m) of the ideal.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/memory.h"

namespace test_training_stage_layers {

using namespace llmsim;
using namespace llmsim_test;

namespace {

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}

// A LLaMA-shaped model with `layers` uniform layers and a 256-entry vocabulary, so the
// embedding and the LM head are a fraction of a percent of a layer (the closed forms
// count layers only).
std::string tiny_model(const std::string& d, int layers) {
  return write(d, "tiny" + std::to_string(layers) + ".yaml",
               "name: tiny\narchitectures: [LlamaForCausalLM]\nhidden_act: silu\nnum_hidden_layers: " +
                   std::to_string(layers) +
                   "\nhidden_size: 2048\nnum_attention_heads: 16\nnum_key_value_heads: 16\nintermediate_size: 8192\n"
                   "vocab_size: 256\nmax_position_embeddings: 4096\ntie_word_embeddings: false\n");
}

// Four H100s on a switch so fast that communication is free, as the closed forms assume.
std::string fast_topology(const std::string& d) {
  return write(d, "fast.yaml",
               "name: fast\ndevice: nvidia-h100-sxm\ncount: 4\nfabrics:\n  - name: nv\n    type: nvlink\n"
               "    shape: switch\n    link: {bandwidth: 1000 TB/s, latency: 1 ns}\n");
}

TrainingConfig config(const std::string& par, const std::string& model = "llama-3.1-405b") {
  const std::string text = "kind: training\nmodel: " + model + "\nseq_len: 2048\nglobal_batch: 16\nparallelism: {" +
                           par + "}\n";
  Topology none;
  return parse_training(parse_doc(text, "train.yaml"), none);
}

// The InputError a configuration raises ("" and 0:0 when it parses).
std::pair<std::string, std::string> refusal(const std::string& par) {
  try {
    config(par);
  } catch (const InputError& e) {
    return {e.what(), std::to_string(e.pos().line) + ":" + std::to_string(e.pos().col)};
  }
  return {"", "0:0"};
}

nlohmann::json run_training(const std::string& d, const std::string& model, const std::string& par) {
  const std::string w = write(d, "w.yaml", "kind: training\nmodel: " + model +
                                               "\nseq_len: 2048\nglobal_batch: 8\nmicro_batch: 1\nparallelism: {" + par +
                                               "}\n");
  auto [rc, text] = run_command("'" + std::string(LLMSIM_BINARY) + "' run --quiet -t " + fast_topology(d) + " -w " + w +
                                " -o " + d + "/out");
  INFO(text);
  REQUIRE(rc == 0);
  return nlohmann::json::parse(slurp(d + "/out/summary.json"))["training"];
}

}  // namespace

TEST_CASE("stage_layers gives each virtual stage its layers and each stage their sum", "[training]") {
  // Llama 3's split of 126 layers over 16 stages x 8 chunks: the first chunk holds only the
  // embedding, the last only the head; every other chunk one layer.
  std::string list = "0";
  for (int i = 0; i < 126; ++i) list += ", 1";
  list += ", 0";
  const auto c = config("tp: 8, pp: 16, dp: 1, schedule: interleaved-1f1b, virtual_stages: 8, stage_layers: [" + list + "]");
  CHECK(training_chunk_layers(c, 0) == 0);
  CHECK(training_chunk_layers(c, 1) == 1);
  CHECK(training_chunk_layers(c, 127) == 0);
  CHECK(training_stage_layers(c, 0) == 7);   // chunks 0, 16, ..., 112 of stage 0: 0 + 7 x 1
  CHECK(training_stage_layers(c, 7) == 8);
  CHECK(training_stage_layers(c, 15) == 7);  // its last chunk (entry 127) holds the head only
  // Parameters follow: a middle stage holds 8 layers, the first 7 and the embedding.
  const auto mem = training_memory(c);
  const double layer = layer_params_per_device(c);
  CHECK(mem[7].params == Approx(8 * layer));
  CHECK(mem[0].params == Approx(7 * layer + c.model.embedding_params() / 8));
  // Without the list, 126 layers cannot be cut into 128 chunks at all.
  CHECK_THROWS_WITH(config("tp: 8, pp: 16, dp: 1, schedule: interleaved-1f1b, virtual_stages: 8"),
                    Catch::Contains("exceeds the model's 126 layers"));
}

TEST_CASE("stage_layers refuses lists that do not describe the model, at the offending entry", "[training]") {
  const std::string head = "tp: 8, pp: 2, dp: 1, schedule: interleaved-1f1b, virtual_stages: 2, stage_layers: ";
  // parallelism starts on line 5; its flow map's text begins at column 15.
  auto [len, len_at] = refusal(head + "[63, 63]");
  CHECK(len.find("pp x virtual_stages = 2 x 2 = 4 layer counts") != std::string::npos);
  CHECK(len.find("(got 2)") != std::string::npos);
  auto [sum, sum_at] = refusal(head + "[31, 32, 32, 30]");
  CHECK(sum.find("sum to 125 but llama-3.1-405b has 126 layers") != std::string::npos);
  // A middle virtual stage with no layer: the error points at that entry (column of "0").
  const std::string zero_list = "[1, 0, 63, 62]";
  auto [zero, zero_at] = refusal(head + zero_list);
  CHECK(zero.find("entry 1 is 0") != std::string::npos);
  const std::string line = "parallelism: {" + head + zero_list;
  CHECK(zero_at == "5:" + std::to_string(line.find("0, 63") + 1));
  auto [neg, neg_at] = refusal(head + "[-1, 64, 63, 0]");
  CHECK(neg.find("entry 0 is -1") != std::string::npos);
  auto [word, word_at] = refusal(head + "[a, 1, 62, 63]");
  CHECK_FALSE(word.empty());
  auto [scalar, scalar_at] = refusal(head + "126");
  CHECK(scalar.find("expected a list of") != std::string::npos);
  // First and last may be 0 (embedding only, head only): accepted.
  CHECK(refusal(head + "[0, 63, 63, 0]").first.empty());
}

TEST_CASE("a bad stage_layers exits 2 with one positioned line and writes nothing", "[training]") {
  const std::string d = make_tmpdir("train-stage-layers");
  const std::string line6 = "  schedule: interleaved-1f1b, virtual_stages: 2, stage_layers: [4, 4, 4, 4, 4, 4, 4, 5]}";
  const std::string w = write(d, "bad.yaml",
                              "kind: training\nmodel: llama-3.1-8b\nseq_len: 2048\nglobal_batch: 8\n"
                              "parallelism: {tp: 2, pp: 4,\n" + line6 + "\n");
  auto [rc, text] = run_command("cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) +
                                "' run --quiet -t topologies/dgx-h100.yaml -w " + w + " -o " + d + "/out");
  INFO(text);
  CHECK(rc == 2);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  // Positioned at the list (line 6, its "[").
  CHECK(text.rfind("llmsim: error: " + w + ":6:" + std::to_string(line6.find('[') + 1) + ": ", 0) == 0);
  CHECK(text.find("sum to 33 but llama-3.1-8b has 32 layers") != std::string::npos);
  CHECK_FALSE(exists(d + "/out/summary.json"));
  std::system(("rm -rf '" + d + "'").c_str());
}

TEST_CASE("interleaving an uneven split keeps the bubble at (p-1)/(v m) of the ideal", "[training]") {
  // p = 4 stages, v = 2 chunks, m = 8 micro-batches; 30 layers (30 / 8 chunks is no whole
  // number) with the first and last chunk one layer short, Llama 3's way. With the layers'
  // work W spread over the stages, the interleaved schedule's span is
  // W (1 + (p-1)/(v m)) (Narayanan et al. SC'21 §2.2.2, [LLAMA3-PP]), so the bubble, mean
  // idle share of the span, is (p-1)/(v m + p - 1) = 3/19. Tolerance 3 %: the closed form
  // assumes equal chunks; a list-scheduling of this order with 3- and 4-layer chunks
  // (backward 2x forward) gives 0.1589, +0.6 %, while misplacing the short chunks (both on
  // stage 0) gives 0.189, +20 %.
  const std::string d = make_tmpdir("train-uneven-bubble");
  const double p = 4, v = 2, m = 8;
  const std::string par = "tp: 1, pp: 4, schedule: interleaved-1f1b, virtual_stages: 2";
  const auto uneven = run_training(d, tiny_model(d, 30), par + ", stage_layers: [3, 4, 4, 4, 4, 4, 4, 3]");
  CHECK(uneven["pipeline_bubble_fraction"].get<double>() == Approx((p - 1) / (v * m + p - 1)).epsilon(0.03));
  // Against 32 even layers (four per chunk) the step is W'/W = 30/32 of it: the two layers
  // taken off the end stages come off the step (1.5 % tolerance: the list-scheduling gives
  // 0.9386, and Adam's few milliseconds are the same in both).
  const auto even = run_training(d, tiny_model(d, 32), par);
  CHECK(uneven["step_time_s"].get<double>() / even["step_time_s"].get<double>() == Approx(30.0 / 32).epsilon(0.015));
  std::system(("rm -rf '" + d + "'").c_str());
}

TEST_CASE("with interleaving each chunk's gradients are reduced after its own last backward", "[training]") {
  // Megatron-Core launches a model chunk's gradient sync after that chunk's last backward
  // [MEGATRON-PP-SCHED]: on stage 0 (p = 2, v = 2, m = 4) chunk 1's last backward (B3.c1)
  // comes before chunk 0's (B3.c0), so a data-parallel all-reduce must start before the
  // stage's final backward starts. Reducing everything in the stage's last pass would
  // start them all inside B3.c0.
  const std::string d = make_tmpdir("train-chunk-sync");
  const std::string w = write(d, "w.yaml", "kind: training\nmodel: " + tiny_model(d, 16) +
                                               "\nseq_len: 2048\nglobal_batch: 16\nmicro_batch: 1\nparallelism: {tp: 1, "
                                               "pp: 2, dp: 4, schedule: interleaved-1f1b, virtual_stages: 2}\n");
  auto [rc, text] = run_command("cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) +
                                "' run --quiet --timeline -t topologies/dgx-h100.yaml -w " + w + " -o " + d + "/out");
  INFO(text);
  REQUIRE(rc == 0);
  const nlohmann::json tl = nlohmann::json::parse(slurp(d + "/out/timeline.json"));
  const nlohmann::json& events = tl.is_array() ? tl : tl["traceEvents"];
  // gpu0 is stage 0 of replica 0 (Megatron order: device = t + tp (d + dp p)).
  int gpu0 = -1;
  for (const auto& e : events)
    if (e.value("name", "") == "process_name" && e["args"].value("name", "") == "gpu0") gpu0 = e["pid"].get<int>();
  REQUIRE(gpu0 >= 0);
  double final_backward = -1, first_reduction = -1;
  int reductions = 0;
  for (const auto& e : events) {
    if (!e.contains("pid") || e["pid"].get<int>() != gpu0 || !e.contains("ts")) continue;
    const std::string n = e.value("name", ""), cat = e.value("cat", "");
    const double ts = e["ts"].get<double>();
    if (n == "B3.c0" && (final_backward < 0 || ts < final_backward)) final_backward = ts;
    if (cat == "collective" && n.rfind("allreduce", 0) == 0) {
      ++reductions;
      if (first_reduction < 0 || ts < first_reduction) first_reduction = ts;
    }
  }
  REQUIRE(final_backward > 0);
  REQUIRE(reductions >= 2);  // one bucket at least per chunk
  CHECK(first_reduction < final_backward);
  std::system(("rm -rf '" + d + "'").c_str());
}

}  // namespace test_training_stage_layers
