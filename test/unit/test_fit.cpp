// [fit] `llmsim fit`: the review's example (Llama 3.1 405B on H100-80GB) and the KV term.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "sim/cli/commands.h"
#include "sim/llm/fit.h"

namespace test_fit {

using namespace llmsim;

namespace {
ChipSpec h100_like() {
  ChipSpec c;
  c.name = "h100-like";
  MemoryTierSpec sram;
  sram.tier = "sram";
  sram.capacity = 50e6;
  MemoryTierSpec hbm;
  hbm.tier = "hbm";
  hbm.capacity = 80e9;  // H100 SXM5 80 GB (CHIPS.md §1)
  c.memory = {sram, hbm};
  return c;
}

std::string run(const std::string& args) {
  std::string cmd = std::string(LLMSIM_BINARY) + " fit " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  return out;
}
}  // namespace

TEST_CASE("review example: 405B needs 972 GB fp16 / 1,944 GB fp32", "[fit]") {
  ModelSpec m = load_model_ref("llama-3.1-405b");
  FitNeed fp16 = fit_need(m, "fp16", 0, 1);
  CHECK(fp16.nominal);
  CHECK(fp16.weights == Approx(972e9));  // 405e9 x 2 x 1.2
  CHECK(format_bytes_human(fp16.weights) == "972 GB");
  FitChip c16 = fit_chip(fp16, h100_like());
  CHECK(c16.chips == 13);         // 972 / 80 = 12.15 -> 13 by capacity
  CHECK(c16.review_chips == 12);  // the review's "about 12"
  FitNeed fp32 = fit_need(m, "fp32", 0, 1);
  CHECK(format_bytes_human(fp32.weights) == "1,944 GB");
  FitChip c32 = fit_chip(fp32, h100_like());
  CHECK(c32.chips == 25);         // 24.3 -> 25
  CHECK(c32.review_chips == 24);
}

TEST_CASE("KV cache term and computed counts for config.json models", "[fit]") {
  ModelSpec m = load_model_ref("llama-3.1-70b");
  // 2 x 80 x 8 x 128 x 1 B x 8192 x 32 = 42.9 GB at fp8.
  FitNeed n = fit_need(m, "fp8", 8192, 32);
  CHECK(n.kv == Approx(2.0 * 80 * 8 * 128 * 8192 * 32));
  CHECK(n.weights == Approx(70e9 * 1.2));
  CHECK(fit_chip(n, h100_like()).chips == 2);  // (84 + 42.9) / 80 = 1.59
  ModelSpec hf = load_model_ref(std::string(LLMSIM_SOURCE_DIR) + "/test/data/hf-llama-3.1-8b-config.json");
  FitNeed h = fit_need(hf, "bf16", 0, 1);
  CHECK_FALSE(h.nominal);
  CHECK(h.weights == Approx(8030261248.0 * 2 * 1.2));
  CHECK(fit_chip(h, h100_like()).chips == 1);
}

TEST_CASE("weights and KV in different tiers: the tighter tier decides", "[fit]") {
  ChipSpec c = h100_like();
  MemoryTierSpec ddr;
  ddr.tier = "ddr";
  ddr.capacity = 1.5e12;
  c.memory.push_back(ddr);
  c.placement.weights = "ddr";  // SN40L-style: weights in DDR, KV in HBM
  ModelSpec m = load_model_ref("llama-3.1-405b");
  FitNeed n = fit_need(m, "bf16", 131072, 4);  // KV = 516,096 B x 524,288 = 270.6 GB
  FitChip f = fit_chip(n, c);
  CHECK(f.kv_capacity == 80e9);
  CHECK(f.chips == 4);  // KV 270.6 / 80 = 3.38 beats weights 972 / 1500
}

TEST_CASE("fit CLI prints the review's numbers", "[fit]") {
  std::string o = run("--model llama-3.1-405b --dtype fp16 --device nvidia-h100-sxm");
  CHECK_THAT(o, Catch::Contains("972 GB"));
  // 972e9 B over the H100's 80 GiB (5 x 16 GiB stacks = 85,899,345,920 B) = 11.32; the
  // review's "about 12" divides by 80e9 B.
  CHECK_THAT(o, Catch::Contains("12 = ceil(11.32)"));
  CHECK_THAT(o, Catch::Contains("about 11"));
  std::string o32 = run("--model llama-3.1-405b --dtype fp32 --device nvidia-h100-sxm");
  CHECK_THAT(o32, Catch::Contains("1,944 GB"));
  CHECK_THAT(o32, Catch::Contains("23 = ceil(22.63)"));
  CHECK_THAT(o32, Catch::Contains("about 23"));
}

TEST_CASE("fit without --device lists every chip of the catalog", "[fit]") {
  std::string o = run("--model llama-3.1-70b --dtype fp8 --context 8192 --batch 16");
  CHECK_THAT(o, Catch::Contains("KV cache = 2 x 80 layers x 8 kv_heads x 128 head_dim x 1 B x 8192 context x 16 batch = 21.5 GB"));
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  for (const auto& n : cat.names()) CHECK_THAT(o, Catch::Contains(n));
  // 84 + 21.5 GB over the H100's 85.9 GB (80 GiB): 2 chips by capacity, "about 1" by the
  // review's rounding.
  CHECK_THAT(o, Catch::Contains("2 = ceil(1.23)"));
}

}  // namespace test_fit
