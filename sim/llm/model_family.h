// What a HuggingFace `model_type` means beyond the shapes its config.json lists (MLP kind,
// default embedding tying, biases, norms per layer), and the config fields that change the
// arithmetic: read (MoE, shared expert), refused (not modelled), or warned (partly modelled).
// A config must never be read silently wrong (issue 16): docs/inference.md lists all three.
#pragma once
#include <ostream>
#include <string>

#include "sim/core/yaml_doc.h"
#include "sim/llm/model.h"

namespace llmsim {

struct ModelFamily {
  const char* type;            // model_type
  bool gated;                  // gate/up/down MLP whatever the activation (false: GPT 2-matrix)
  bool gpt_layout;             // learned positions, biases on every linear, LayerNorm
  bool tied_default;           // tie_word_embeddings when absent (the HF config class default)
  bool qkv_bias;               // Q, K, V projections carry biases (Qwen2)
  int norms_per_layer;         // RMSNorm/LayerNorm vectors per layer
  const char* activation_key;  // where the MLP activation is named ("hidden_act", Gemma "hidden_activation")
  const char* default_act;     // activation when the config names none
};

// nullptr for a model_type llmsim does not know.
const ModelFamily* find_family(const std::string& model_type);
std::string known_model_types();  // "llama, mistral, ..." for messages

// Reads `model_type` into m.model_type and returns its family. A config.json whose type
// is unknown or absent gets one warning line (read as a LLaMA-style decoder: gated MLP for
// silu, plain for gelu, no biases); nullptr then, as for a catalog file without the key.
const ModelFamily* read_family(Fields& f, ModelSpec& m, bool hf_json, std::ostream& warn);

// Experts: num_local_experts (or its alias num_experts), num_experts_per_tok,
// moe_intermediate_size (per routed expert), shared_expert_intermediate_size, and the
// Qwen2-MoE layer pattern (decoder_sparse_step, mlp_only_layers: only "every layer" is
// modelled). Needs m.ffn and m.hidden read first.
void read_moe(Fields& f, ModelSpec& m);

// Throws a positioned InputError at the first field that changes the arithmetic and is
// not modelled (DeepSeek multi-head latent attention, DeepSeek MoE layout).
void refuse_unmodelled(Fields& f);

// One warning line per field modelled only in part (sliding_window: attention cost and KV
// cache are taken over the whole context).
void warn_partial(Fields& f, const ModelSpec& m, std::ostream& warn);

}  // namespace llmsim
