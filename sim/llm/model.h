// LLM architectures (workloads/models/*.yaml or a HuggingFace config.json), with the
// parameter and KV-cache arithmetic that `fit`, `check` and the inference workload share.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"

namespace llmsim {

struct ModelSpec {
  std::string name;            // catalog id or file stem
  std::string file;            // where it was loaded from
  std::string architecture;    // HF `architectures[0]` (e.g. LlamaForCausalLM)
  std::string model_type;      // HF `model_type` (llama, qwen2_moe, gemma ...); "" in the catalog
  std::string hidden_act;      // silu | gelu | gelu_new | gelu_pytorch_tanh | relu ...
  std::int64_t layers = 0;     // num_hidden_layers
  std::int64_t hidden = 0;     // hidden_size
  std::int64_t heads = 0;      // num_attention_heads
  std::int64_t kv_heads = 0;   // num_key_value_heads (== heads for MHA)
  std::int64_t head_dim = 0;   // head_dim, default hidden / heads (Gemma: 256, not hidden / heads)
  std::int64_t ffn = 0;        // intermediate_size (per routed expert for MoE: moe_intermediate_size)
  std::int64_t vocab = 0;      // vocab_size
  std::int64_t max_context = 0;  // max_position_embeddings
  bool tied_embeddings = false;  // tie_word_embeddings: LM head shares the embedding matrix
  // Gated MLP (gate, up, down: 3 matrices; SwiGLU, Gemma's GeGLU) vs plain 2-matrix MLP (GPT).
  bool gated_mlp = true;
  // GPT-2/3 family: learned absolute positions (biases below all set too).
  bool learned_positions = false;
  bool qkv_bias = false;   // Q, K, V projections have biases (GPT, Qwen2, attention_bias)
  bool out_bias = false;   // attention output projection has a bias (GPT, attention_bias)
  bool mlp_bias = false;   // MLP matrices have biases (GPT, mlp_bias)
  bool norm_bias = false;  // LayerNorm (weight + bias) instead of RMSNorm (weight only)
  std::int64_t norms_per_layer = 2;    // Gemma-2: 4 (pre and post norms around attention and MLP)
  std::int64_t experts = 1;            // num_local_experts / num_experts (1 = dense)
  std::int64_t experts_per_token = 1;  // num_experts_per_tok
  // Qwen2-MoE shared expert: a gated MLP of this width every token runs beside the routed
  // experts, scaled by a sigmoid gate (hidden -> 1). 0 = none.
  std::int64_t shared_ffn = 0;
  double nominal_params = 0;           // `parameters:` (catalog), 0 when not given

  bool moe() const { return experts > 1; }
  // Parameter counts from the shapes (docs/inference.md "Parameter count").
  double embedding_params() const;   // token (+ position) embeddings
  double lm_head_params() const;     // 0 when tied
  double attention_params() const;   // per layer: Q, K, V, O (+ biases)
  double expert_params() const;      // one routed expert (the whole MLP when dense)
  double shared_expert_params() const;  // shared expert + its gate (0 without one)
  double mlp_params() const;         // per layer, all experts (+ router, shared expert)
  double layer_params() const;       // attention + mlp + norms
  double params() const;             // embeddings + layers + final norm + lm head
  double active_params() const;      // per token (MoE: only top-k experts)
  // What `fit` sizes: the nominal count when the catalog gives one, else computed.
  double fit_params() const { return nominal_params > 0 ? nominal_params : params(); }
  // K and V of every layer for one token.
  double kv_bytes_per_token(double dtype_bytes) const {
    return 2.0 * static_cast<double>(layers * kv_heads * head_dim) * dtype_bytes;
  }
};

// Transformer layers held by pipeline stage `s` of `pp` (as even as possible). The
// remainder layers go to the middle stages first: the first stage also holds the embedding
// and the last the LM head, so they are the ones to keep light (this matters where SRAM
// holds the weights, e.g. Groq's 230 MB per chip). Serving and training share it.
std::int64_t pipeline_stage_layers(std::int64_t layers, std::int64_t pp, std::int64_t s);

// Parses one model document. Catalog YAML is strict (unknown keys are errors); a file
// ending in .json is a HuggingFace config.json: its unrelated keys are ignored, but fields
// that change the arithmetic and are not modelled are errors, and an unknown model_type or
// a partly modelled field is a one-line warning on `warn` (nullptr = std::cerr).
ModelSpec load_model(const Doc& doc, std::ostream* warn = nullptr);

// A catalog name ("llama-3.1-70b" -> DIR/llama-3.1-70b.yaml) or a path (contains '/' or
// ends in .yaml/.json). `from` positions the error for an unknown name.
ModelSpec load_model_ref(const std::string& name_or_path, const SourcePos& from = {},
                         const std::string& base_dir = "", std::ostream* warn = nullptr);

std::string default_model_dir();          // PROJECT/workloads/models
std::vector<std::string> model_names();   // catalog ids, sorted

}  // namespace llmsim
