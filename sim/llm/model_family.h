// What a HuggingFace `model_type` means beyond the shapes its config.json lists (MLP kind,
// default embedding tying, biases, norms, block layout, attention window pattern), and the
// config fields that change the arithmetic: read (MoE, MLA, windows), refused (not
// modelled), or warned (partly modelled, or not read at all). A config must never be read
// silently wrong (issue 16, issue 14 item 6): docs/models.md lists all of them.
#pragma once
#include <ostream>
#include <string>

#include "sim/core/yaml_doc.h"
#include "sim/llm/model.h"

namespace llmsim {

struct ModelFamily {
  const char* type;            // model_type
  bool gated;                  // gate/up/down MLP whatever the activation (false: GPT 2-matrix)
  bool gpt_layout;             // learned positions, biases on every linear, LayerNorm (GPT-2)
  bool tied_default;           // tie_word_embeddings when absent (the HF config class default)
  bool qkv_bias;               // Q, K, V projections carry biases (Qwen2)
  int norms_per_layer;         // RMSNorm/LayerNorm vectors per layer
  const char* activation_key;  // where the MLP activation is named ("hidden_act", Gemma "hidden_activation")
  const char* default_act;     // activation when the config names none
  bool qk_norm;                // RMSNorm on Q and K per head (Qwen3, Gemma 3)
  // Every `window_pattern`-th layer attends globally, the others within sliding_window
  // (1: all layers local, Mistral; 2: Gemma 2; 6: Gemma 3 sliding_window_pattern default).
  int window_pattern;
};

// nullptr for a model_type llmsim does not know.
const ModelFamily* find_family(const std::string& model_type);
std::string known_model_types();  // "llama, mistral, ..." for messages

// Reads `model_type` into m.model_type and returns its family. A config.json whose type
// is unknown or absent gets one warning line (read as a LLaMA-style decoder: gated MLP for
// silu, plain for gelu, no biases); nullptr then, as for a catalog file without the key.
const ModelFamily* read_family(Fields& f, ModelSpec& m, bool hf_json, std::ostream& warn);

// GPT-NeoX, GPT-J and Falcon layouts (LayerNorm, their biases, parallel attention + MLP,
// Falcon's multi-query and new_decoder_architecture KV heads, partial rotary). Runs after
// read_shapes; false when m.model_type is none of them.
bool read_parallel_families(Fields& f, ModelSpec& m);

// Experts: num_local_experts (or its aliases num_experts, n_routed_experts),
// num_experts_per_tok, moe_intermediate_size (per routed expert), shared experts
// (shared_expert_intermediate_size, or DeepSeek n_shared_experts), DeepSeek's dense first
// layers (first_k_dense_replace) and the Qwen2-MoE layer pattern (decoder_sparse_step,
// mlp_only_layers: only "every layer" is modelled). Needs m.ffn and m.hidden read first.
void read_moe(Fields& f, ModelSpec& m);

// DeepSeek-V2/V3 multi-head latent attention (kv_lora_rank, q_lora_rank, qk_nope_head_dim,
// qk_rope_head_dim, v_head_dim); nothing when kv_lora_rank is absent.
void read_mla(Fields& f, ModelSpec& m);

// Sliding-window attention: sliding_window with the family's local/global pattern,
// sliding_window_pattern, layer_types, or Qwen2's use_sliding_window/max_window_layers.
void read_window(Fields& f, ModelSpec& m, const ModelFamily* fam);

// BERT (model_type bert): an encoder with token-type embeddings (type_vocab_size, default
// 2) and absolute positions only (position_embedding_type other than "absolute" is refused).
void read_encoder(Fields& f, ModelSpec& m);

// Throws a positioned InputError at the first field that changes the arithmetic and is
// not modelled.
void refuse_unmodelled(Fields& f);

// Informational config.json fields are read and dropped; every other field not read by now
// is named in one warning line (never silently dropped). Also warns the MTP module.
void warn_unread(Fields& f, const ModelSpec& m, std::ostream& warn);

}  // namespace llmsim
