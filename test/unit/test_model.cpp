// [model] The LLM catalog: shapes load, parameter counts match the published sizes.
#include <catch2/catch.hpp>

#include "sim/llm/model.h"

namespace test_model {

using namespace llmsim;

namespace {
ModelSpec cat(const std::string& n) { return load_model_ref(n); }
}  // namespace

TEST_CASE("catalog parameter counts match the nominal sizes", "[model]") {
  // Computed from shapes (embeddings + layers + final norm + LM head).
  struct Row { const char* name; double computed; };
  // Reference counts: HuggingFace model cards (safetensors totals) and papers.
  const Row rows[] = {
      {"llama-3.1-8b", 8.030e9},   {"llama-3.1-70b", 70.554e9}, {"llama-3.1-405b", 405.85e9},
      {"llama-2-7b", 6.738e9},     {"llama-2-13b", 13.016e9},   {"llama-2-70b", 68.977e9},
      {"mixtral-8x7b", 46.703e9},  {"gpt-3-175b", 174.6e9},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    ModelSpec m = cat(r.name);
    CHECK(m.params() == Approx(r.computed).epsilon(0.001));
    // Every catalog entry within 2% of the size in its name (405B -> 405e9).
    CHECK(std::fabs(m.params() / m.nominal_params - 1.0) < 0.02);
  }
}

TEST_CASE("llama 3.1 405B shapes and exact count", "[model]") {
  ModelSpec m = cat("llama-3.1-405b");
  CHECK(m.layers == 126);
  CHECK(m.hidden == 16384);
  CHECK(m.heads == 128);
  CHECK(m.kv_heads == 8);
  CHECK(m.head_dim == 128);
  CHECK(m.ffn == 53248);
  CHECK(m.gated_mlp);
  CHECK_FALSE(m.tied_embeddings);
  CHECK(m.nominal_params == 405e9);
  // 2 x 128256 x 16384 + 126 x (2 x 16384^2 + 2 x 16384 x 1024 + 3 x 16384 x 53248 + 2 x 16384) + 16384
  CHECK(m.params() == 405853388800.0);
  CHECK(m.kv_bytes_per_token(2) == 2.0 * 126 * 8 * 128 * 2);  // 516,096 B per token
}

TEST_CASE("MoE and non-gated models", "[model]") {
  ModelSpec mx = cat("mixtral-8x7b");
  CHECK(mx.moe());
  CHECK(mx.experts == 8);
  CHECK(mx.experts_per_token == 2);
  // Mixtral paper: 12.9B active parameters per token.
  CHECK(mx.active_params() == Approx(12.88e9).epsilon(0.01));
  ModelSpec g = cat("gpt-3-175b");
  CHECK_FALSE(g.gated_mlp);  // hidden_act gelu_new, GPT2LMHeadModel layout
  CHECK(g.learned_positions);
  CHECK(g.tied_embeddings);
  CHECK(g.mlp_params() == Approx(2.0 * 12288 * 49152 + 49152 + 12288));
}

TEST_CASE("a HuggingFace config.json loads (unknown keys ignored)", "[model]") {
  ModelSpec m = load_model_ref(std::string(LLMSIM_SOURCE_DIR) + "/test/data/hf-llama-3.1-8b-config.json");
  ModelSpec c = cat("llama-3.1-8b");
  CHECK(m.params() == c.params());
  CHECK(m.nominal_params == 0);
  CHECK(m.fit_params() == m.params());
  CHECK(m.architecture == "LlamaForCausalLM");
  // GPT-2 small through its own aliases (n_embd, n_layer, n_inner: null): 124.4M params.
  ModelSpec g = load_model_ref(std::string(LLMSIM_SOURCE_DIR) + "/test/data/hf-gpt2-config.json");
  CHECK_FALSE(g.gated_mlp);
  CHECK(g.ffn == 3072);
  CHECK(g.params() == 124439808.0);
}

TEST_CASE("bad model documents are positioned input errors", "[model]") {
  auto bad = [](const std::string& text) { return load_model(parse_doc(text, "m.yaml")); };
  const std::string base =
      "num_hidden_layers: 2\nhidden_size: 64\nnum_attention_heads: 4\nintermediate_size: 128\n"
      "vocab_size: 100\nmax_position_embeddings: 32\n";
  CHECK(bad(base).params() > 0);
  CHECK_THROWS_WITH(bad(base + "num_key_value_heads: 3\n"), Catch::Contains("must divide"));
  CHECK_THROWS_WITH(bad(base + "hidden_act: tanh\n"), Catch::Contains("unknown activation"));
  CHECK_THROWS_WITH(bad(base + "hiden: 3\n"), Catch::Contains("hiden"));
  CHECK_THROWS_WITH(bad(base + "num_local_experts: 2\nnum_experts_per_tok: 3\n"), Catch::Contains("exceeds"));
  try {
    bad(base + "num_key_value_heads: 3\n");
  } catch (const InputError& e) {
    CHECK(e.located().rfind("m.yaml:7:", 0) == 0);
  }
  CHECK_THROWS_AS(load_model_ref("llama-3.1-7b"), InputError);
}

}  // namespace test_model
