// [training] The shipped TPU v4 workload and CALIBRATION.md's training rows beyond C4
// (docs/validation.md "Training rows of the wider set"), through the binary. Expected
// figures are the published measurements; the bands are the documented gaps (the model
// omits per-kernel framework costs, so it is optimistic), checked in their direction so
// fixing or worsening them shows up here.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <regex>

#include "sim/llm/model.h"
#include "training_summary.h"

namespace test_training_calibration {

using llmsim_test::kRoot;
using llmsim_test::Outcome;
using llmsim_test::train;
using nlohmann::json;

namespace {

const std::string kCal = "workloads/calibration/";

}  // namespace

// [slow]: ~9 s in Release, past the 60 s child limit in the clang ASan build (3,072 chips,
// TP 12 with overlapped GEMM blocks).
TEST_CASE("GPT-3 175B on a 3,072-chip TPU v4 slice runs PaLM's layout within the chip's limits", "[training][slow]") {
  json t = train("topologies/tpu-v4-3072.yaml", "workloads/train-gpt3-175b-tpu-v4.yaml");
  CHECK(t["mfu"].get<double>() > 0);
  CHECK(t["mfu"].get<double>() < 1);
  CHECK(t["tflops_per_device"].get<double>() <= 275);       // TPU v4 bf16 peak [TPUv4-doc]
  CHECK(t["pipeline_bubble_fraction"].get<double>() == 0);  // pp 1: no pipeline
  // ZeRO-3 over 256 x TP 12: each chip stores 1/3,072 of the 16-bit weights. GPT-3's
  // weights from its shape (Brown et al. Table 2.1): 12 L h^2 in the layers plus the
  // vocabulary and 2,048 learned positions, biases and norms aside (< 0.1 %).
  const double L = 96, h = 12288, params = 12 * L * h * h + (50257 + 2048) * h;
  CHECK(t["memory"]["weights"].get<double>() == Approx(params * 2 / 3072).epsilon(0.01));
  CHECK(t["peak_memory_bytes_per_device"].get<double>() < 32.0 * (1 << 30));
}

TEST_CASE("C17 and C18: MPT-70B FSDP on 64 A100 and 64 H100 against llm-foundry", "[training]") {
  // C17 (A100): MFU 53.33 %, 410 tokens/s per GPU; the run is compute-bound, so the
  // documented +11 % (after the A100 HBM fit, residual adds and FSDP's reduce-scatter per
  // micro-batch) is the compute model's optimism; 15 % band (the brief's).
  json a = train(kCal + "c17-a100-64.topology.yaml", kCal + "c17-c18-mpt-70b-fsdp.yaml");
  CHECK(a["mfu"].get<double>() == Approx(0.5333).epsilon(0.15));
  CHECK(a["tokens_per_s"].get<double>() / 64 == Approx(410).epsilon(0.15));
  // C18 (H100): MFU 42.57 %, 1,039 tokens/s per GPU; documented gap +32 % (not a
  // bandwidth mechanism: docs/models.md "Training step costs beyond the GEMMs"):
  // optimistic, by less than 1.5x.
  json h = train(kCal + "c18-c19-h100-64.topology.yaml", kCal + "c17-c18-mpt-70b-fsdp.yaml");
  CHECK(h["tokens_per_s"].get<double>() / 64 > 1039);
  CHECK(h["tokens_per_s"].get<double>() / 64 < 1.5 * 1039);
  // Same recipe on both: HFU / MFU is the full recompute's extra forward, (6 + 2) / 6 of
  // the dense FLOPs (4/3; attention shifts it slightly), on either chip.
  CHECK(h["hfu"].get<double>() / h["mfu"].get<double>() == Approx(4.0 / 3).epsilon(0.03));
}

TEST_CASE("C19 and C29: fp8 pre-training on 64 H100 and 1,024 Gaudi 2", "[training]") {
  // C19 (NeMo, Llama 3 70B fp8, TP4 PP4 CP2 VP5): 1,533 tokens/s per GPU; documented gap
  // +39 % (near C18's bf16 +33 %: the H100 training model's optimism, not fp8's):
  // optimistic, by less than 1.6x.
  json n = train(kCal + "c18-c19-h100-64.topology.yaml", kCal + "c19-llama3-70b-fp8-nemo.yaml");
  CHECK(n["tokens_per_s"].get<double>() / 64 > 1533);
  CHECK(n["tokens_per_s"].get<double>() / 64 < 1.6 * 1533);
  // C29 (MLPerf v4.0, GPT-3 175B fp8, TP8 PP8 DP16, 64 micro-batches): ~11.76 s a step;
  // documented -16 %. 20 % band: the schedule, ZeRO stage and sequence parallelism are
  // assumed, not published.
  json g = train(kCal + "c29-gaudi2-1024.topology.yaml", kCal + "c29-gpt3-175b-gaudi2.yaml");
  CHECK(g["step_time_s"].get<double>() == Approx(11.76).epsilon(0.20));
  // 1F1B with 8 stages and 64 micro-batches idles at least (p-1)/(m+p-1) = 7/71.
  CHECK(g["pipeline_bubble_fraction"].get<double>() >= 7.0 / 71 * 0.98);
}

// [slow]: ~9 s in Release, past the 60 s child limit in the clang ASan build (3,072 chips,
// TP 12 with overlapped GEMM blocks).
TEST_CASE("C8: PaLM 540B on a 3,072-chip TPU v4 pod, multi-query heads replicated over tp 12", "[training][slow]") {
  // PaLM (Chowdhery et al. 2022): 46.2 % MFU, 57.8 % HFU on 6,144 chips. One pod is
  // simulated with its half of the batch; documented -5 % / +1 % (issue 12: TP 12 on its
  // torus line and FSDP 256 on its 16x16 plane as bidirectional rings, full recompute from
  // PaLM's HFU / MFU = 1.25). 15 % band (the brief's), both figures.
  json t = train("topologies/tpu-v4-3072.yaml", kCal + "c8-palm-540b-tpu-v4.yaml");
  CHECK(t["mfu"].get<double>() == Approx(0.462).epsilon(0.15));
  CHECK(t["hfu"].get<double>() == Approx(0.578).epsilon(0.15));
  // Full recompute re-runs every forward: hardware FLOPs 8N per token against the
  // model's 6N (attention aside), so HFU / MFU sits near 4/3.
  CHECK(t["hfu"].get<double>() / t["mfu"].get<double>() == Approx(4.0 / 3).epsilon(0.03));
}

TEST_CASE("C43 and C41: BERT-Large on a Bow Pod16 and Llama 2 7B weight-streamed on one CS-3", "[training]") {
  // C43 (Graphcore, phase 1: 6,044 sequences/s): documented gap +46 % (BSP syncs and
  // exchanges priced, docs/models.md "BSP exchange"; Graphcore's 3/7/7/7 layout, "IPU
  // training pipeline"; the IPU still inherits H100's GEMM efficiency, and seq 128 pays a
  // per-micro-batch cost the model cannot derive): optimistic, by less than 1.6x (2.06x
  // before the exchange, 1.66x before the layout). Free communication and a 428-micro-batch
  // 1F1B over 4 stages idle at least (p-1)/(m+p-1) = 3/431; and stage 0 (3 layers, the
  // embedding and the MLM head, each of the last two under one layer's FLOPs) does at most
  // 5/7 of a 7-layer stage's work, so averaged over the 4 stages at least (1 - 5/7) / 4 idles.
  json b = train("topologies/bow-pod16.yaml", kCal + "c43-bert-large-bow-pod16.yaml");
  const double seqs = 54784 / b["step_time_s"].get<double>();
  CHECK(seqs > 6044);
  CHECK(seqs < 1.6 * 6044);
  CHECK(b["pipeline_bubble_fraction"].get<double>() >= 3.0 / 431 * 0.98);
  CHECK(b["pipeline_bubble_fraction"].get<double>() >= (1 - 5.0 / 7) / 4);
  // C41 (ALCF: 31.98 samples/s): documented gap -18 % since the operand feed (the WSE-3's
  // 8 lanes at what 21 PB/s of SRAM feeds, docs/models.md "Operand feed"; it was +48 % on
  // H100's inherited efficiency). Band 25 %, wider than 15 % because the row's sequence
  // length is assumed and the WSE-3's per-core SRAM ports are unpublished (WSE-2's port
  // widths would read -7 %): pessimistic, by less than a quarter.
  json c = train("topologies/cs3.yaml", kCal + "c41-llama2-7b-cs3.yaml");
  const double samples = 1024 / c["step_time_s"].get<double>();
  CHECK(samples < 31.98);
  CHECK(samples > 0.75 * 31.98);
}

// C15's run itself takes ~7 s of CPU (64 stages x 1,024 chunk passes): scripts/validate runs
// it; this checks its inputs in ~0.2 s. The paper's count for the model's shape, and the
// memory of a middle stage by arithmetic, without simulating the step.
TEST_CASE("C15: GPT 1T has Table 1's 1,008 B parameters and fits an 80 GB A100 at TP 8 x PP 64",
          "[training][calibration]") {
  // Narayanan et al. 2021 Table 1 [MEGATRON-SC21] (recalled): 1,008.0 B parameters.
  llmsim::ModelSpec m = llmsim::load_model_ref(kRoot + "/workloads/calibration/models/gpt-1t.yaml");
  CHECK(m.params() == Approx(1008.0e9).epsilon(0.001));
  Outcome o = llmsim_test::run_cli("fit --training " + kCal + "c15-gpt-1t-a100-3072.yaml --device nvidia-a100-sxm");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  const std::regex stage1(R"(stage 1 \(2 layers\): weights ([0-9.]+) GiB \+ gradients ([0-9.]+) GiB)"
                          R"( \+ optimizer ([0-9.]+) GiB)");
  std::smatch g;
  REQUIRE(std::regex_search(o.text, g, stage1));
  // A middle stage: 2 of 128 layers of 12 h^2 weights (biases < 0.01 %) over TP 8; 16-bit
  // weights and gradients, and without ZeRO (zero 0) the fp32 master copy and two Adam
  // moments, 12 bytes per parameter. Printed to 0.1 GiB: 2 % band.
  const double h = 25600, local = 2 * 12 * h * h / 8, gib = 1024.0 * 1024 * 1024;
  CHECK(std::stod(g[1]) == Approx(2 * local / gib).epsilon(0.02));
  CHECK(std::stod(g[2]) == Approx(2 * local / gib).epsilon(0.02));
  CHECK(std::stod(g[3]) == Approx(12 * local / gib).epsilon(0.02));
  CHECK(o.text.find(": fits (worst stage") != std::string::npos);
}

}  // namespace test_training_calibration
