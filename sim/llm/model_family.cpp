// Family table and the config.json fields that change the arithmetic. Family facts are
// the HuggingFace transformers modeling code and config-class defaults [HF-TRANSFORMERS]:
// every decoder below except GPT-2 builds its MLP as down(act(gate(x)) * up(x)) whatever
// the activation is called, so Gemma's "gelu" is GeGLU [GEMMA-2024], not a plain MLP.
#include "sim/llm/model_family.h"

#include <vector>

namespace llmsim {
namespace {

// type, gated, gpt_layout, tied_default, qkv_bias, norms_per_layer, activation_key, default_act
const ModelFamily kFamilies[] = {
    {"llama", true, false, false, false, 2, "hidden_act", "silu"},
    {"mistral", true, false, false, false, 2, "hidden_act", "silu"},
    {"mixtral", true, false, false, false, 2, "hidden_act", "silu"},
    {"phi3", true, false, false, false, 2, "hidden_act", "silu"},  // gate_up fused: same counts
    {"qwen2", true, false, false, true, 2, "hidden_act", "silu"},
    {"qwen2_moe", true, false, false, true, 2, "hidden_act", "silu"},
    // Gemma ties the LM head to the embeddings unless told otherwise; Gemma-2 adds a norm
    // after attention and after the MLP (4 per layer).
    {"gemma", true, false, true, false, 2, "hidden_activation", "gelu_pytorch_tanh"},
    {"gemma2", true, false, true, false, 4, "hidden_activation", "gelu_pytorch_tanh"},
    {"gpt2", false, true, true, false, 2, "activation_function", "gelu_new"},
};

// Fields whose presence (non-null) changes shapes llmsim does not model, and why.
struct Refused {
  const char* key;
  const char* why;
};
const char* const kMla =
    "multi-head latent attention (DeepSeek-V2/V3): its low-rank Q/KV projections and compressed KV "
    "cache would be read as plain attention";
const char* const kDeepseekMoe =
    "the DeepSeek MoE layout (shared experts, dense first layers, layer frequency): llmsim models "
    "Mixtral-style and Qwen2-MoE-style experts on every layer";
const Refused kRefused[] = {
    {"kv_lora_rank", kMla},          {"q_lora_rank", kMla},          {"qk_rope_head_dim", kMla},
    {"qk_nope_head_dim", kMla},      {"v_head_dim", kMla},           {"n_shared_experts", kDeepseekMoe},
    {"n_routed_experts", kDeepseekMoe}, {"first_k_dense_replace", kDeepseekMoe},
    {"moe_layer_freq", kDeepseekMoe},
};

void warn_at(std::ostream& warn, const SourcePos& pos, const std::string& msg) {
  warn << "llmsim: warning: " << pos.str() << ": " << msg << "\n";
}

}  // namespace

const ModelFamily* find_family(const std::string& model_type) {
  for (const auto& fam : kFamilies)
    if (model_type == fam.type) return &fam;
  return nullptr;
}

std::string known_model_types() {
  std::string list;
  for (const auto& fam : kFamilies) list += (list.empty() ? "" : ", ") + std::string(fam.type);
  return list;
}

const ModelFamily* read_family(Fields& f, ModelSpec& m, bool hf_json, std::ostream& warn) {
  m.model_type = f.str("model_type", "");
  const ModelFamily* fam = find_family(m.model_type);
  if (fam || (m.model_type.empty() && !hf_json)) return fam;
  const std::string what = m.model_type.empty() ? "no model_type (llmsim knows "
                                                 : "model_type '" + m.model_type + "' is not one llmsim knows (";
  warn_at(warn, m.model_type.empty() ? f.pos() : f.pos("model_type"),
          what + known_model_types() +
              "); read as a LLaMA-style decoder (gated MLP for silu, plain for gelu; no biases; "
              "untied unless tie_word_embeddings): check its parameter count with `llmsim check`");
  return nullptr;
}

void read_moe(Fields& f, ModelSpec& m) {
  // Qwen2-MoE (and OLMoE) call num_local_experts num_experts.
  const bool local = f.has("num_local_experts"), alias = f.has("num_experts");
  m.experts = f.positive(local ? "num_local_experts" : "num_experts", 1);
  if (local && alias && f.positive("num_experts") != m.experts) {
    f.fail("num_experts", "disagrees with num_local_experts (" + std::to_string(m.experts) + ")");
  }
  const std::string experts_key = alias && !local ? "num_experts" : "num_local_experts";
  m.experts_per_token = f.positive("num_experts_per_tok", m.experts > 1 ? 2 : 1);
  if (m.experts_per_token > m.experts) {
    f.fail("num_experts_per_tok", "exceeds " + experts_key + " (" + std::to_string(m.experts) + ")");
  }
  for (const char* k : {"moe_intermediate_size", "shared_expert_intermediate_size"}) {
    if (f.has(k) && !m.moe()) f.fail(k, std::string("needs experts (num_experts or num_local_experts > 1)"));
  }
  // With every layer an MoE layer (the defaults below), intermediate_size is unused by
  // Qwen2-MoE: the routed experts have moe_intermediate_size.
  if (f.has("moe_intermediate_size")) m.ffn = f.positive("moe_intermediate_size");
  if (f.has("shared_expert_intermediate_size")) m.shared_ffn = f.positive("shared_expert_intermediate_size");
  if (f.has("decoder_sparse_step") && f.integer("decoder_sparse_step") != 1) {
    f.fail("decoder_sparse_step", "only 1 (an MoE MLP on every layer) is modelled; dense layers between "
                                  "MoE layers would be read as MoE");
  }
  if (f.has("mlp_only_layers")) {
    YAML::Node n = f.get("mlp_only_layers");
    if (!n.IsSequence() || n.size() > 0) {
      f.fail("mlp_only_layers", "only [] is modelled; dense layers among MoE layers would be read as MoE");
    }
  }
}

void refuse_unmodelled(Fields& f) {
  for (const auto& r : kRefused) {
    if (f.has(r.key)) f.fail(r.key, std::string("not modelled: ") + r.why);
  }
}

void warn_partial(Fields& f, const ModelSpec& m, std::ostream& warn) {
  // Qwen configs carry sliding_window with use_sliding_window: false (unused).
  if (!f.has("sliding_window") || !f.boolean("use_sliding_window", true)) return;
  const std::int64_t window = f.positive("sliding_window");
  if (window >= m.max_context) return;
  warn_at(warn, f.pos("sliding_window"),
          "sliding_window " + std::to_string(window) +
              " is modelled only in part: parameter count exact, but attention and the KV cache are "
              "taken over the whole context, an overestimate for contexts past " +
              std::to_string(window) + " tokens");
}

}  // namespace llmsim
