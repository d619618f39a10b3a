// [training] Tokenized traces, context parallelism and expert parallelism through the
// binary: step times that follow the documents, padding and masking reported, a 128k
// sequence that only fits with cp, an MoE step with ep, and bad traces refused.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_support.h"

namespace test_training_data_cli {

using namespace llmsim_test;
using nlohmann::json;

namespace {

std::string put(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}

std::pair<int, std::string> llmsim(const std::string& args) {
  return run_command("cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) + "' " + args);
}

// n H100s on one NVLink switch (NVLink 4: 450 GB/s per direction).
std::string h100s(const std::string& d, int n) {
  return put(d, "h100x" + std::to_string(n) + ".yaml",
             "name: h100x" + std::to_string(n) + "\ndevice: nvidia-h100-sxm\ncount: " + std::to_string(n) +
                 "\nfabrics:\n  - name: nv\n    type: nvlink\n    shape: switch\n    link: {bandwidth: 450 GB/s, latency: 1 us}\n");
}

json train(const std::string& d, const std::string& topo, const std::string& name, const std::string& body, int want = 0) {
  const std::string out = d + "/out-" + name;
  auto [rc, text] = llmsim("run --quiet -t " + topo + " -w " + put(d, name + ".yaml", body) + " -o " + out);
  INFO(text);
  REQUIRE(rc == want);
  return want == 0 ? json::parse(slurp(out + "/summary.json"))["training"] : json{{"message", text}};
}

// Step 0: 64 documents of 256 tokens (8 sequences of 8 documents); step 1: 8 of 2,048.
std::string trace(const std::string& d) {
  std::string t;
  for (int i = 0; i < 64; ++i) t += "{\"tokens\": 256}\n";
  for (int i = 0; i < 8; ++i) t += "2048\n";
  return put(d, "docs.jsonl", t);
}

std::string packed(const std::string& file, const std::string& packing, const std::string& attention) {
  return "kind: training\nmodel: llama-3.1-8b\nseq_len: 2048\nglobal_batch: 8\nsteps: 2\n"
         "parallelism: {tp: 8}\ndata: {trace: {file: " + file + "}, packing: " + packing + ", attention: " + attention + "}\n";
}

}  // namespace

TEST_CASE("a packed trace of short documents costs less attention and steps follow their documents", "[training]") {
  const std::string d = make_tmpdir("train-data");
  const std::string topo = "topologies/dgx-h100.yaml", docs = trace(d);
  const json masked = train(d, topo, "masked", packed(docs, "concat", "document-masked"));
  const json causal = train(d, topo, "causal", packed(docs, "concat", "causal"));
  // Step 0's sequences hold 8 documents each: about 1/8 of step 1's attention.
  CHECK(masked["step_times_s"]["min"].get<double>() < masked["step_times_s"]["max"].get<double>() * 0.99);
  CHECK(causal["step_times_s"]["min"].get<double>() == Approx(causal["step_times_s"]["max"].get<double>()).epsilon(1e-3));
  CHECK(masked["step_time_s"].get<double>() < causal["step_time_s"].get<double>());
  CHECK(masked["step_times_s"]["max"].get<double>() == Approx(causal["step_times_s"]["max"].get<double>()).epsilon(1e-3));
  // Skipped share of the causal work: step 0 keeps 8 x 256^2 of 2048^2 (1/8), step 1 all.
  CHECK(masked["data"]["masked_attention_fraction"].get<double>() == Approx(1 - (8 * 0.125 + 8 * 1.0) / 16));
  CHECK(masked["data"]["padding_waste_fraction"].get<double>() == 0);
  // pad: the first 16 sequences each hold one 256-token document.
  const json pad = train(d, topo, "pad", packed(docs, "pad", "causal"));
  CHECK(pad["data"]["padding_waste_fraction"].get<double>() == Approx(1 - 256.0 / 2048));
  CHECK(pad["data"]["useful_tokens_per_s"].get<double>() == Approx(pad["tokens_per_s"].get<double>() * 256 / 2048));
  std::system(("rm -rf " + d).c_str());
}

TEST_CASE("a 131,072-token sequence fits with context parallelism where cp 1 exits 3 on memory", "[training]") {
  const std::string d = make_tmpdir("train-cp");
  const std::string topo = h100s(d, 16);
  const std::string head = "kind: training\nmodel: llama-3.1-8b\nseq_len: 131072\nglobal_batch: 2\n";
  // tp 8 x dp 2: 32 layers x ~2.4 GB of activations for the whole sequence (+ 8 GB of fp32
  // logits) is past the 72 GiB an 80 GB H100 leaves after the 10 % reserve.
  const json no = train(d, topo, "cp1", head + "parallelism: {tp: 8, dp: 2, sequence_parallel: true, zero: 1}\n", 3);
  CHECK(no["message"].get<std::string>().find("activations") != std::string::npos);
  // The same 16 devices as tp 8 x cp 2: each rank holds half of the sequence's activations.
  const json yes = train(d, topo, "cp2", head + "parallelism: {tp: 8, cp: 2, dp: 1, sequence_parallel: true, zero: 1}\n");
  CHECK(yes["mfu"].get<double>() > 0);
  CHECK(yes["mfu"].get<double>() < 1);
  std::system(("rm -rf " + d).c_str());
}

TEST_CASE("Mixtral 8x7B trains with expert parallelism 8 on 16 H100", "[training]") {
  const std::string d = make_tmpdir("train-ep");
  const json t = train(d, h100s(d, 16), "ep",
                       "kind: training\nmodel: mixtral-8x7b\nseq_len: 4096\nglobal_batch: 16\n"
                       "parallelism: {tp: 2, dp: 8, ep: 8, sequence_parallel: true, zero: 1, recompute: full}\n");
  CHECK(t["mfu"].get<double>() > 0);
  CHECK(t["mfu"].get<double>() < 1);
  CHECK(t["tflops_per_device"].get<double>() <= 989.4);  // H100 SXM dense bf16 (NVIDIA datasheet)
  CHECK(t["exposed_comm_fraction"].get<double>() > 0);
  std::system(("rm -rf " + d).c_str());
}

TEST_CASE("expert parallelism unfolded gives the folded step time, and runs with context parallelism", "[training]") {
  // A small Mixtral-shaped MoE (8 experts, top-2) so every layout fits 8 H100s and runs fast.
  const std::string d = make_tmpdir("train-ep-unfold");
  const std::string moe =
      put(d, "moe.yaml",
          "name: small-moe\narchitectures: [MixtralForCausalLM]\nhidden_act: silu\n"
          "num_hidden_layers: 8\nhidden_size: 2048\nnum_attention_heads: 16\nnum_key_value_heads: 8\n"
          "intermediate_size: 4096\nvocab_size: 32000\nmax_position_embeddings: 32768\n"
          "tie_word_embeddings: false\nnum_local_experts: 8\nnum_experts_per_tok: 2\n");
  const std::string head = "kind: training\nmodel: " + moe + "\n";
  // Every replica simulated: the ep replicas of an EP group meet for each all-to-all, so
  // the step is the folded run's (uniform sequences: every replica does the same work).
  const std::string body = head + "seq_len: 2048\nglobal_batch: 8\nparallelism: {tp: 2, dp: 4, ep: 4, zero: 1}\n";
  const json folded = train(d, h100s(d, 8), "fold", body);
  const json all = train(d, h100s(d, 8), "unfold", body + "fold_data_parallel: false\n");
  CHECK(all["step_time_s"].get<double>() == Approx(folded["step_time_s"].get<double>()).epsilon(0.02));
  // MoE long context: cp 2 halves each rank's tokens, and its all-to-all carries them.
  const json cpep = train(d, h100s(d, 8), "cpep",
                          head +
                              "seq_len: 16384\nglobal_batch: 4\n"
                              "parallelism: {tp: 2, cp: 2, dp: 2, ep: 2, sequence_parallel: true, zero: 1}\n");
  CHECK(cpep["mfu"].get<double>() > 0);
  CHECK(cpep["mfu"].get<double>() < 1);
  CHECK(cpep["exposed_comm_fraction"].get<double>() > 0);
  // ep must divide dp (EP groups are carved out of one CP rank's DP ranks): with the numbers.
  const json bad = train(d, h100s(d, 8), "badep",
                         head + "seq_len: 16384\nglobal_batch: 4\nparallelism: {tp: 2, cp: 2, dp: 2, ep: 4}\n", 2);
  CHECK(bad["message"].get<std::string>().find("ep 4 must divide dp 2") != std::string::npos);
  CHECK(bad["message"].get<std::string>().rfind("llmsim: error: " + d + "/badep.yaml:", 0) == 0);
  std::system(("rm -rf " + d).c_str());
}

TEST_CASE("training traces and cp / ep settings that make no sense exit 2 with their position", "[training]") {
  const std::string d = make_tmpdir("train-data-bad");
  const std::string bad = put(d, "bad.jsonl", "{\"tokens\": 12}\n{\"tokens\": -3}\n");
  auto [rc, text] = llmsim("run --quiet -t topologies/dgx-h100.yaml -w " +
                           put(d, "w.yaml", packed(bad, "concat", "document-masked")) + " -o " + d + "/o1");
  CHECK(rc == 2);
  CHECK(text.rfind("llmsim: error: " + bad + ":2:", 0) == 0);
  auto [rc2, text2] = llmsim("run --quiet -t topologies/dgx-h100.yaml -w " +
                             put(d, "ep.yaml", "kind: training\nmodel: llama-3.1-8b\nseq_len: 2048\nglobal_batch: 8\n"
                                               "parallelism: {tp: 1, ep: 2}\n") +
                             " -o " + d + "/o2");
  CHECK(rc2 == 2);
  CHECK(text2.find(d + "/ep.yaml:") != std::string::npos);
  CHECK(text2.find("mixture-of-experts") != std::string::npos);
  CHECK_FALSE(exists(d + "/o2/summary.json"));
  std::system(("rm -rf " + d).c_str());
}

}  // namespace test_training_data_cli
