// Attention kernel generations (docs/models.md "Attention"): an overlapped softmax leaves
// the stack's softmax_exposed share of the shorter phase exposed, and a microbench
// attention op runs the named stack's kernel. The expected figures are the papers'
// measurements, held out of the fits: FA2 on A100 [FA2-paper], FA3's fall with the head
// dimension [FA3-paper] (only its best point, head dim 256, was fitted).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "op_builders.h"

#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <fstream>
#include <string>

#include "sim/ops/op.h"
#include "sim/software/stack.h"

namespace test_attention_kernels {

using namespace llmsim;
using namespace llmsim_test;

namespace {

// [FA2-paper] abstract: FlashAttention-2 reaches 50-73 % of A100's peak.
constexpr double kFa2A100Low = 0.50, kFa2A100High = 0.73;

Op non_causal(std::int64_t head_dim, bool overlapped, bool warp) {
  Op a = prefill_attention_op(16384, false, overlapped, warp);
  a.heads = a.kv_heads = 2048 / head_dim;  // the same FLOPs at every head dimension
  a.head_dim = head_dim;
  return a;
}

std::string tmpdir() {
  char buf[] = "/tmp/llmsim-attk-XXXXXX";
  REQUIRE(::mkdtemp(buf) != nullptr);
  return buf;
}

// Runs a microbench of `ops` (YAML list items) on dgx-h100 under `header` lines; the
// rows' achieved fraction of peak, or the exit status and log when it fails.
int run_microbench(const std::string& header, const std::string& ops, nlohmann::json& rows, std::string& log) {
  const std::string dir = tmpdir();
  std::ofstream(dir + "/w.yaml") << "kind: microbench\n" << header << "ops:\n" << ops;
  const std::string cmd = "cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) +
                          "' run -t topologies/dgx-h100.yaml -w '" + dir + "/w.yaml' -o '" + dir + "/out' >'" + dir +
                          "/log' 2>&1";
  const int rc = std::system(cmd.c_str());
  log = slurp(dir + "/log");
  if (rc == 0) rows = nlohmann::json::parse(slurp(dir + "/out/summary.json"))["microbench"];
  std::system(("rm -rf '" + dir + "'").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

TEST_CASE("attention kernels: FA2 on A100 inside the paper's 50-73 % of peak", "[compute]") {
  // A100's native instructions are FA2's own, its softmax serialised: nothing here was fitted.
  const ChipSpec& a100 = shipped_catalog().get("nvidia-a100-sxm");
  for (std::int64_t d : {64, 128}) {
    for (std::int64_t len : {2048, 16384}) {
      INFO("head dim " << d << ", sequence " << len);
      Op a = non_causal(d, false, true);
      a.q_len = a.kv_len = len;
      a.batch = 16384 / len;
      const double e = efficiency(estimate_op(a, a100));
      CHECK(e >= kFa2A100Low);
      CHECK(e <= kFa2A100High);
    }
  }
}

TEST_CASE("attention kernels: FA3-class utilisation falls with the head dimension, as measured", "[compute]") {
  // [FA3-paper]: the exponentials per matmul FLOP double as the head dimension halves, and
  // FA3's forward falls from its 740 TFLOPS best (head dim 256) to ~650 (128) and ~500
  // (64): a perfectly hidden softmax would give the same rate at all three.
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  const double exposed = load_software_file("nemo", {}).attention_softmax_exposed;
  CHECK(exposed > 0);
  double last = 0;
  for (std::int64_t d : {64, 128, 256}) {
    INFO("head dim " << d);
    Op a = non_causal(d, true, false);
    a.softmax_exposed = exposed;
    const double e = efficiency(estimate_op(a, h100));
    CHECK(e > last);
    CHECK(e <= 0.75 * 1.02);  // the paper's best, within the fit's rounding
    last = e;
  }
  // Hidden wholly, the head dimension would not matter: the mechanism is the exposure.
  Op hidden64 = non_causal(64, true, false), hidden256 = non_causal(256, true, false);
  CHECK(efficiency(estimate_op(hidden64, h100)) == Approx(efficiency(estimate_op(hidden256, h100))).epsilon(0.01));
}

TEST_CASE("attention kernels: a microbench attention op runs the named stack's kernel", "[compute][microbench]") {
  const std::string op = "  - {op: attention, heads: 16, head_dim: 128, q_len: 16384, causal: false}\n";
  nlohmann::json plain, fa2, fa2_fields, fa3, fa3_hidden;
  std::string log;
  REQUIRE(run_microbench("", op, plain, log) == 0);
  REQUIRE(run_microbench("software: llm-foundry\n", op, fa2, log) == 0);
  REQUIRE(run_microbench("", "  - {op: attention, heads: 16, head_dim: 128, q_len: 16384, causal: false, mma: warp}\n",
                         fa2_fields, log) == 0);
  REQUIRE(run_microbench("software: nemo\n", op, fa3, log) == 0);
  REQUIRE(run_microbench("software: nemo\n",
                         "  - {op: attention, heads: 16, head_dim: 128, q_len: 16384, causal: false, "
                         "softmax_exposed: 0}\n",
                         fa3_hidden, log) == 0);
  auto frac = [](const nlohmann::json& r) { return r[0]["achieved_fraction_of_peak"].get<double>(); };
  // FA2 (llm-foundry) at ~35 % [FA3-paper], below the default kernel on wgmma; the field
  // alone gives the same; FA3-class above both, and faster still with the softmax hidden.
  CHECK(frac(fa2) == Approx(0.35).epsilon(0.05));
  CHECK(frac(fa2) < frac(plain));
  CHECK(frac(fa2_fields) == Approx(frac(fa2)).epsilon(1e-9));
  CHECK(frac(fa3) > frac(plain));
  CHECK(frac(fa3_hidden) > frac(fa3));
}

TEST_CASE("attention kernels: a paged stack pages only ops that read a cache", "[compute][microbench]") {
  // vllm-cuda's paged KV: decode (q_len 1 over 4096 keys) reads K and V through the block
  // table, slower by the tier's paged_efficiency; a prefill of its own keys is not paged.
  const std::string decode =
      "  - {op: attention, batch: 64, heads: 64, kv_heads: 8, head_dim: 128, q_len: 1, kv_len: 4096, mma: native}\n";
  const std::string prefill = "  - {op: attention, heads: 16, head_dim: 128, q_len: 4096, mma: native}\n";
  nlohmann::json d0, d1, p0, p1;
  std::string log;
  REQUIRE(run_microbench("", decode, d0, log) == 0);
  REQUIRE(run_microbench("software: vllm-cuda\n", decode, d1, log) == 0);
  CHECK(log.find(" paged ") != std::string::npos);  // the row's detail names the layout
  REQUIRE(run_microbench("", prefill, p0, log) == 0);
  REQUIRE(run_microbench("software: vllm-cuda\n", prefill, p1, log) == 0);
  CHECK(log.find(" paged ") == std::string::npos);
  auto t = [](const nlohmann::json& r) { return r[0]["time_s"].get<double>(); };
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  const double paged = h100.tier("hbm")->paged_efficiency;
  REQUIRE(paged < 1);
  // KV bytes dominate a decode: the time grows by nearly 1 / paged_efficiency.
  CHECK(t(d1) / t(d0) > 1 + 0.8 * (1 / paged - 1));
  CHECK(t(d1) / t(d0) <= 1 / paged + 1e-9);
  CHECK(t(p1) == Approx(t(p0)).epsilon(1e-9));
}

TEST_CASE("attention kernels: softmax_exposed outside 0..1 is exit 2 at its line", "[compute][microbench]") {
  nlohmann::json rows;
  std::string log;
  CHECK(run_microbench("", "  - {op: attention, heads: 16, q_len: 1024, softmax_exposed: 1.5}\n", rows, log) == 2);
  CHECK(log.find("w.yaml:3:") != std::string::npos);  // kind, ops, then the op
  CHECK(log.find("softmax_exposed") != std::string::npos);
}

}  // namespace test_attention_kernels
