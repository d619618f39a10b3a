// [training] Training software stacks (docs/training.md "Software stacks"): the stack's
// attention kernel generation and its tensor-parallel overlap. The overlap is checked
// against the decomposition's closed form [XLA-CM] from a collective and GEMMs each run
// alone (microbench), not against the lowering's own arithmetic.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli_outcome.h"
#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/ops/op_model.h"
#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/lowering.h"

namespace test_training_stack {

using namespace llmsim;
using namespace llmsim_test;
using nlohmann::json;

namespace {

TrainingConfig config(const std::string& text) {
  Topology none;
  return parse_training(parse_doc("kind: training\n" + text, "t.yaml"), none);
}

const ChipSpec& chip(const std::string& name) {
  static ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  return cat.get(name);
}

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}

// jax-tpu with its TP overlap set as asked (the same collective library either way).
std::string tpu_stack(const std::string& dir, bool overlap) {
  std::string s = llmsim_test::slurp(kRoot + "/topologies/software/jax-tpu.yaml");
  s = std::regex_replace(s, std::regex("comm_overlap: true"), overlap ? "comm_overlap: true" : "comm_overlap: false");
  return write(dir, overlap ? "on.yaml" : "off.yaml", s);
}

// Four TPU v5p on one switch (every TP rank one hop apart); TPU chips hold no compute
// units for collectives, so a GEMM beside a collective runs at its own speed.
std::string tpu_switch(const std::string& dir, const std::string& bandwidth) {
  return write(dir, "tpu4-" + bandwidth.substr(0, bandwidth.find(' ')) + ".yaml",
               "name: tpu4\ndevice: google-tpu-v5p\ncount: 4\nprefix: tpu\nfabrics:\n  - name: ici\n    type: ici\n"
               "    shape: switch\n    link: {bandwidth: " +
                   bandwidth + ", latency: 1 us}\n");
}

// One Llama-style layer, hidden 2048, 16 heads, MLP 8192, a 256-entry vocabulary.
const char* const kLayer =
    "name: one-layer\narchitectures: [LlamaForCausalLM]\nhidden_act: silu\nnum_hidden_layers: 1\nhidden_size: 2048\n"
    "num_attention_heads: 16\nnum_key_value_heads: 16\nintermediate_size: 8192\nvocab_size: 256\n"
    "max_position_embeddings: 4096\ntie_word_embeddings: false\n";

json run_summary(const std::string& topo, const std::string& wl, const std::string& dir, const std::string& tag) {
  Outcome o = llmsim_test::run_cli("run --quiet -t " + topo + " -w " + wl + " -o " + dir + "/" + tag);
  INFO(o.text);
  REQUIRE(o.rc == 0);
  return json::parse(llmsim_test::slurp(dir + "/" + tag + "/summary.json"));
}

// kLayer's four TP-paired GEMMs at seq 2048 and TP 4 (h 2048, ffn 8192; Megatron-LM's
// column / row split): forward attn_out [T, h, h/4] and mlp_down [T, h, ffn/4], backward the
// data gradients of qkv [T, 3h/4, h] and mlp_up [T, 2 ffn/4, h] (dgrad of [m, n, k] is
// [m, k, n]).
constexpr std::int64_t kT = 2048, kH = 2048, kFfn = 8192, kTp = 4;
const std::vector<std::array<std::int64_t, 3>> kPairGemms = {
    {kT, kH, kH / kTp}, {kT, kH, kFfn / kTp}, {kT, kH, 3 * kH / kTp}, {kT, kH, 2 * kFfn / kTp}};

// A microbench on `stack`: the 8 MiB TP all-reduce, then each paired GEMM on all its rows
// and on 1 / `split` of them (one decomposition step).
std::string pair_microbench(const std::string& stack, std::int64_t split) {
  std::string mb = "kind: microbench\nsoftware: " + stack +
                   "\nops:\n  - {op: allreduce, sizes: [8388608 B], group: all, algorithm: auto}\n";
  for (const auto& g : kPairGemms) {
    for (std::int64_t m : {g[0], g[0] / split}) {
      mb += "  - {op: gemm, m: " + std::to_string(m) + ", n: " + std::to_string(g[1]) + ", k: " + std::to_string(g[2]) +
            ", dtype: bf16, device: tpu0}\n";
    }
  }
  return mb;
}

}  // namespace

TEST_CASE("a training stack's attention generation sets attention time: FA2 slower than FA3 on H100", "[training]") {
  const std::string base = "model: llama-3.1-8b\nseq_len: 8192\nglobal_batch: 1\n";
  const TrainingConfig fa2 = config(base + "software: llm-foundry\n");  // FlashAttention-2
  const TrainingConfig fa3 = config(base + "software: nemo\n");         // FA3-class (cuDNN on Hopper)
  const TrainingConfig none = config(base);
  const ChipSpec& h100 = chip("nvidia-h100-sxm");
  const AttentionCost a2 = TrainingLowering(fa2, h100).attention_cost({8192});
  const AttentionCost a3 = TrainingLowering(fa3, h100).attention_cost({8192});
  CHECK(a3.forward.compute < a2.forward.compute);
  CHECK(a3.backward.compute < a2.backward.compute);
  CHECK(a3.forward.flops == Approx(a2.forward.flops));  // same work, different kernel
  // No stack: as before stacks, FA2's serialised softmax at the native instruction rate;
  // llm-foundry's FA2 also issues mma.sync (2/3 of wgmma on H100, `attention.mma: warp`).
  const TrainingConfig fa2n = config(base + "software: {name: fa2n, attention: {softmax: serialised}, dtypes: [bf16], "
                                            "sources: {attention.softmax: \"estimate: test\"}}\n");
  const AttentionCost an = TrainingLowering(fa2n, h100).attention_cost({8192});
  CHECK(TrainingLowering(none, h100).attention_cost({8192}).forward.compute == Approx(an.forward.compute));
  CHECK(an.forward.compute < a2.forward.compute);
  // FA2-class attention stays below a large bf16 GEMM's rate (docs/models.md "Attention").
  Op g;
  g.kind = OpKind::Gemm;
  g.dtype = "bf16";
  g.m = g.n = g.k = 8192;
  const OpCost gc = estimate_op(g, h100);
  CHECK(a2.forward.flops / a2.forward.compute < gc.flops / gc.time);
}

TEST_CASE("training software: unknown stacks and dtypes the stack does not run are exit-2 errors", "[training]") {
  const std::string base = "model: llama-3.1-8b\nseq_len: 2048\nglobal_batch: 1\n";
  CHECK_THROWS_AS(config(base + "software: no-such-stack\n"), InputError);
  const std::string narrow =
      "software: {name: narrow, attention: {softmax: serialised}, dtypes: [bf16], "
      "sources: {attention.softmax: \"estimate: test\"}}\n";
  CHECK_NOTHROW(config(base + narrow));
  CHECK_THROWS_WITH(config(base + "dtype: fp8\n" + narrow), Catch::Contains("does not run dtype 'fp8'"));
  CHECK(config(base + "software: none\n").software.name.empty());
}

// One layer, TP 4 without sequence parallelism: forward, the attention and MLP outputs'
// all-reduces pair with attn_out [T, h, h/4] and mlp_down [T, h, ffn/4]; backward, the input
// gradients' all-reduces with the data-gradient GEMMs of qkv [T, 3h/4, h] and mlp_up
// [T, 2 ffn/4, h] (Megatron-LM's column / row split). A decomposed pair lasts
// c + max(3 c, A) (c: one of 4 row blocks of the GEMM, A: the all-reduce alone) instead of
// C + A, so the step with overlap is shorter by the sum of C + A - c - max(3 c, A).
TEST_CASE("TP overlap hides exactly the decomposition's share of each TP collective", "[training]") {
  const std::string dir = llmsim_test::make_tmpdir("tpov");
  const std::string model = write(dir, "layer.yaml", kLayer);
  for (const std::string bw : {"20 GB/s", "400 GB/s"}) {  // communication-bound, then compute-bound
    const std::string topo = tpu_switch(dir, bw);
    const std::string mb = pair_microbench(tpu_stack(dir, true), kTp);
    const json alone = run_summary(topo, write(dir, "mb.yaml", mb), dir, "mb")["microbench"];
    REQUIRE(alone.size() == 9);
    const double A = alone[0]["time_s"];
    double hidden = 0;
    for (std::size_t i = 0; i < kPairGemms.size(); ++i) {
      const double C = alone[1 + 2 * i]["time_s"], c = alone[2 + 2 * i]["time_s"];
      hidden += C + A - c - std::max(3 * c, A);
    }
    auto wl = [&](bool overlap) {
      return write(dir, std::string("wl-") + (overlap ? "on" : "off") + ".yaml",
                   "kind: training\nmodel: " + model + "\nseq_len: 2048\nglobal_batch: 1\nsoftware: " +
                       tpu_stack(dir, overlap) + "\nparallelism: {tp: 4}\n");
    };
    const json off = run_summary(topo, wl(false), dir, "off")["training"];
    const json on = run_summary(topo, wl(true), dir, "on")["training"];
    INFO(bw << ": A " << A << " s, hidden " << hidden << " s");
    CHECK(on["tp_comm_overlap"] == true);
    CHECK(off["tp_comm_overlap"] == false);
    const double t_off = off["step_time_s"], t_on = on["step_time_s"];
    CHECK(hidden > 0);
    CHECK(t_off - t_on == Approx(hidden).epsilon(1e-6));
    // Never faster than the compute alone or the communication alone (DP 1: every exposed
    // second of the run without overlap is a TP collective).
    const double compute_only = (off["time"]["compute"].get<double>() + off["time"]["optimizer"].get<double>()) * t_off;
    const double comm_only = off["time"]["exposed_communication"].get<double>() * t_off;
    CHECK(comm_only == Approx(4 * A).epsilon(1e-6));
    CHECK(t_on >= std::max(compute_only, comm_only));
    CHECK(t_on < t_off);
  }
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("jax-tpu runs the softmax under the MXU phases (VLIW co-issue): TPU attention at the slower pipe", "[training]") {
  // [TPU-CACM20]: one VLIW bundle issues matrix push / pop and vector slots together, so on
  // TPU the per-score cost is max(matrix, softmax), not their sum (FA2's serialised form,
  // which a run without a stack keeps). Per score at head dim d: 4 d FLOPs on the MXUs at
  // the 16-bit peak x matrix_efficiency; the softmax's one exp at the special-function rate
  // (count x special x clock) or its 4 vector FLOPs at the vector rate, the slower of the two.
  const std::string base = "model: llama-2-70b\nseq_len: 4096\nglobal_batch: 1\n";
  const TrainingConfig jax = config(base + "software: jax-tpu\n");
  const TrainingConfig none = config(base);
  CHECK(jax.software.attention_softmax == "overlapped");
  for (const char* name : {"google-tpu-v5p", "google-tpu-v4"}) {
    INFO(name);
    const ChipSpec& tpu = chip(name);
    const double d = 128;  // Llama 2 70B's head dim
    const double peak = tpu.compute.peak.at("bf16").value();
    const double matrix = 4 * d / (peak * tpu.compute.matrix_efficiency);
    const double softmax = std::max(4 / opmodel::vector_peak(tpu).value(), 1 / tpu.compute.special_rate(tpu.clock));
    const double expected = (matrix + softmax) / std::max(matrix, softmax);
    REQUIRE(expected > 1.3);  // the estimate-driven rates make the exp the slower pipe
    const AttentionCost overlapped = TrainingLowering(jax, tpu).attention_cost({4096});
    const AttentionCost serialised = TrainingLowering(none, tpu).attention_cost({4096});
    CHECK(serialised.forward.compute.value() / overlapped.forward.compute.value() == Approx(expected).epsilon(0.02));
    CHECK(serialised.backward.compute.value() / overlapped.backward.compute.value() == Approx(expected).epsilon(0.02));
    CHECK(overlapped.forward.flops.value() == Approx(serialised.forward.flops.value()));  // same work
    // Still bound by the slower pipe: never above the MAC array's own efficiency.
    CHECK(overlapped.forward.flops.value() / overlapped.forward.compute.value() <= peak * tpu.compute.matrix_efficiency);
  }
}

// The bidirectional decomposition (comm_overlap_directions: 2): with TP 4 each pair runs in
// 2 steps of two shards' rows, so it lasts c2 + max(c2, A) (c2: the GEMM on T / 2 rows)
// instead of C + A: against the run without overlap the step is shorter by the sum of
// C + A - c2 - max(c2, A), each term from a GEMM or collective run alone.
TEST_CASE("bidirectional TP overlap: tp / 2 steps of two shards' rows", "[training]") {
  const std::string dir = llmsim_test::make_tmpdir("tpov2");
  const std::string model = write(dir, "layer.yaml", kLayer);
  const std::string topo = tpu_switch(dir, "20 GB/s");
  std::string both = llmsim_test::slurp(tpu_stack(dir, true));
  both = std::regex_replace(both, std::regex("comm_overlap: true"), "comm_overlap: true\n  comm_overlap_directions: 2");
  both = std::regex_replace(both, std::regex("\nsources:\n"),
                            "\nsources:\n  tensor_parallel.comm_overlap_directions: \"estimate: test\"\n");
  const std::string stack2 = write(dir, "both.yaml", both);
  const std::string mb = pair_microbench(stack2, 2);
  const json alone = run_summary(topo, write(dir, "mb.yaml", mb), dir, "mb")["microbench"];
  REQUIRE(alone.size() == 9);
  const double A = alone[0]["time_s"];
  double hidden = 0;
  for (std::size_t i = 0; i < kPairGemms.size(); ++i) {
    const double C = alone[1 + 2 * i]["time_s"], c2 = alone[2 + 2 * i]["time_s"];
    hidden += C + A - c2 - std::max(c2, A);
  }
  auto wl = [&](const std::string& stack, const std::string& tag) {
    return write(dir, "wl-" + tag + ".yaml",
                 "kind: training\nmodel: " + model + "\nseq_len: 2048\nglobal_batch: 1\nsoftware: " + stack +
                     "\nparallelism: {tp: 4}\n");
  };
  const json off = run_summary(topo, wl(tpu_stack(dir, false), "off"), dir, "off")["training"];
  const json on2 = run_summary(topo, wl(stack2, "two"), dir, "two")["training"];
  const double t_off = off["step_time_s"], t_on2 = on2["step_time_s"];
  INFO("A " << A << " s, hidden " << hidden << " s");
  CHECK(hidden > 0);
  CHECK(t_off - t_on2 == Approx(hidden).epsilon(1e-6));
  // Only 1 or 2 directions exist on a ring.
  both = std::regex_replace(both, std::regex("comm_overlap_directions: 2"), "comm_overlap_directions: 3");
  Outcome bad = llmsim_test::run_cli("run --quiet -t " + topo + " -w " + wl(write(dir, "three.yaml", both), "three") +
                                     " -o " + dir + "/three");
  CHECK(bad.rc == 2);
  CHECK(bad.text.find("comm_overlap_directions") != std::string::npos);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace test_training_stack
