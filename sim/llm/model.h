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
  std::int64_t experts = 1;            // num_local_experts / num_experts / n_routed_experts (1 = dense)
  std::int64_t experts_per_token = 1;  // num_experts_per_tok
  // Shared expert(s) every token runs beside the routed ones, as one gated MLP of this width
  // (Qwen2-MoE shared_expert_intermediate_size; DeepSeek n_shared_experts x
  // moe_intermediate_size). 0 = none. Qwen2-MoE scales it by a sigmoid gate (hidden -> 1).
  std::int64_t shared_ffn = 0;
  bool shared_gate = false;
  bool router_bias = false;            // DeepSeek-V3 e_score_correction_bias (one per expert)
  // DeepSeek first_k_dense_replace: the first layers have a dense MLP of dense_ffn
  // (intermediate_size) instead of experts.
  std::int64_t dense_layers = 0;
  std::int64_t dense_ffn = 0;
  // Multi-head latent attention (DeepSeek-V2 paper, Liu et al. 2024, sec. 2.1): Q through a
  // rank-q_lora_rank bottleneck (0 = a full q_proj), K and V from one cached latent of
  // kv_lora_rank plus a decoupled RoPE key of qk_rope_head_dim shared by all heads.
  std::int64_t q_lora_rank = 0, kv_lora_rank = 0;
  std::int64_t qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  std::int64_t mtp_layers = 0;         // DeepSeek-V3 num_nextn_predict_layers: not counted (warned)
  bool qk_norm = false;                // RMSNorm over head_dim on Q and K (Qwen3, Gemma 3)
  // Attention and MLP read the same normed input and add into one residual (GPT-J,
  // GPT-NeoX use_parallel_residual, Falcon parallel_attn, PaLM): one TP all-reduce a layer.
  bool parallel_block = false;
  bool lm_head_bias = false;           // GPT-J's LM head has a bias
  double rotary_fraction = 1.0;        // share of head_dim rotated (rotary_pct, partial_rotary_factor)
  // Sliding-window attention: `local_layers` of the layers attend within the last
  // `sliding_window` tokens (Mistral: all; Gemma 2: every other; Gemma 3: 5 of 6). 0 = none.
  std::int64_t sliding_window = 0;
  std::int64_t local_layers = 0;
  std::vector<bool> layer_local;       // per layer: attends within the window (empty: none)
  double nominal_params = 0;           // `parameters:` (catalog), 0 when not given
  // Encoder (BERT, model_type bert): bidirectional self-attention -- every query sees every
  // key, the full S^2 matrix, not the causal half -- and BERT's pre-training heads (masked-LM
  // transform + tied decoder with its bias, pooler + next-sentence classifier).
  bool encoder = false;
  std::int64_t type_vocab = 0;  // token-type (segment) embeddings, type_vocab_size

  bool mla() const { return kv_lora_rank > 0; }
  bool moe() const { return experts > 1; }
  // Parameter counts from the shapes (docs/model-catalog.md "Parameter count").
  double embedding_params() const;   // token (+ position) embeddings
  double lm_head_params() const;     // 0 when tied (an encoder: its pre-training heads only)
  // The weights that project to the vocabulary: the LM head's, or the embedding it shares
  // when tied (what a chip that runs the whole head must hold).
  double head_matrix_params() const;
  double encoder_head_params() const;  // BERT MLM transform + decoder bias, pooler, NSP (0 for decoders)
  double attention_params() const;   // per layer: Q, K, V, O (+ biases)
  double expert_params() const;      // one routed expert (the whole MLP when dense)
  double shared_expert_params() const;  // shared expert(s) + gate (0 without one)
  double mlp_params() const;         // per MoE layer, all experts (+ router, shared expert)
  double dense_mlp_params() const;   // per dense layer of an MoE model (first_k_dense_replace)
  double norm_params() const;        // per layer: norms (+ Q/K norms)
  double layer_params() const;       // attention + mlp + norms of an MoE (or the dense) layer
  // Layers [first, first + count): a pipeline stage (dense first layers counted as such).
  double layers_params(std::int64_t first, std::int64_t count) const;
  double params() const;             // embeddings + layers + final norm + lm head
  double active_params() const;      // per token (MoE: only top-k experts)
  // Expected fraction of the routed experts that a batch of `tokens` tokens reaches, each
  // token picking experts_per_token of `experts` uniformly: 1 - (1 - k/E)^tokens (1 when
  // dense). A fused MoE kernel reads only the weights of experts that received tokens.
  double expert_touch_fraction(double tokens) const;
  // What `fit` sizes: the nominal count when the catalog gives one, else computed.
  double fit_params() const { return nominal_params > 0 ? nominal_params : params(); }
  // Attention FLOPs per (query, key) pair per head, multiply-adds counted twice: Q.K over
  // the query/key width and P.V over the value width.
  std::int64_t qk_dim() const { return mla() ? qk_nope_head_dim + qk_rope_head_dim : head_dim; }
  std::int64_t v_dim() const { return mla() ? v_head_dim : head_dim; }
  // KV heads each tensor-parallel rank holds: kv_heads / tp, or 1 when tp exceeds the KV
  // heads (replicated, as vLLM does). MLA caches one latent shared by all heads: 1.
  std::int64_t kv_heads_per_rank(std::int64_t tp) const;
  // Cached elements per token per layer on one rank: K and V of its KV heads, or MLA's
  // compressed latent + decoupled RoPE key (kv_lora_rank + qk_rope_head_dim), once.
  double kv_elements_per_layer(std::int64_t tp = 1) const;
  // K and V (or the MLA latent) of every layer for one token, whole model (tp 1).
  double kv_bytes_per_token(double dtype_bytes) const { return layers * kv_elements_per_layer() * dtype_bytes; }
  // One sequence of `context` tokens: local layers hold at most sliding_window tokens.
  double kv_bytes_per_sequence(std::int64_t context, double dtype_bytes) const;
  // Local (sliding-window) layers among [first, first + count).
  std::int64_t local_layers_in(std::int64_t first, std::int64_t count) const;
};

// Transformer layers held by pipeline stage `s` of `pp` (as even as possible). The
// remainder layers go to the middle stages first: the first stage also holds the embedding
// and the last the LM head, so they are the ones to keep light (this matters where SRAM
// holds the weights, e.g. Groq's 230 MB per chip). Serving and training share it.
std::int64_t pipeline_stage_layers(std::int64_t layers, std::int64_t pp, std::int64_t s);
// Index of stage `s`'s first layer (the layers of stages 0 .. s-1): layers differ by
// index (dense first layers, local / global attention), so a stage needs to know which.
std::int64_t pipeline_stage_first_layer(std::int64_t layers, std::int64_t pp, std::int64_t s);

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
