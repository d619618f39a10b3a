// config.json readers for the layer variants beside the plain decoder: experts (Mixtral,
// Qwen2-MoE, DeepSeek) and sliding-window attention (Mistral, Gemma 2/3, Qwen2, Phi-3).
#include <algorithm>

#include "sim/llm/model_family.h"

namespace llmsim {
namespace {

// DeepSeek-V2/V3 layout [DEEPSEEK-V3]: n_shared_experts shared experts of
// moe_intermediate_size (one MLP of their summed width), the first first_k_dense_replace
// layers dense with intermediate_size, MoE on every layer after (moe_layer_freq 1).
void read_deepseek_moe(Fields& f, ModelSpec& m, std::int64_t dense_ffn) {
  if (f.has("n_shared_experts")) m.shared_ffn = f.positive("n_shared_experts") * m.ffn;
  if (f.has("first_k_dense_replace")) {
    m.dense_layers = f.integer("first_k_dense_replace");
    if (m.dense_layers < 0 || m.dense_layers >= m.layers) {
      f.fail("first_k_dense_replace", "must be in [0, num_hidden_layers = " + std::to_string(m.layers) + ")");
    }
    m.dense_ffn = dense_ffn;
  }
  if (f.has("moe_layer_freq") && f.integer("moe_layer_freq") != 1) {
    f.fail("moe_layer_freq", "only 1 (MoE on every layer after the dense ones) is modelled");
  }
  // DeepSeek-V3's noaux_tc routing adds a per-expert score bias (e_score_correction_bias).
  m.router_bias = m.model_type == "deepseek_v3";
}
}  // namespace

void read_moe(Fields& f, ModelSpec& m) {
  // Qwen2-MoE (and OLMoE) call num_local_experts num_experts; DeepSeek n_routed_experts.
  std::string experts_key = "num_local_experts";
  for (const char* k : {"num_experts", "n_routed_experts"})
    if (!f.has(experts_key) && f.has(k)) experts_key = k;
  m.experts = f.positive(experts_key, 1);
  if (experts_key == "num_local_experts" && f.has("num_experts") && f.positive("num_experts") != m.experts) {
    f.fail("num_experts", "disagrees with num_local_experts (" + std::to_string(m.experts) + ")");
  }
  m.experts_per_token = f.positive("num_experts_per_tok", m.experts > 1 ? 2 : 1);
  if (m.experts_per_token > m.experts)
    f.fail("num_experts_per_tok", "exceeds " + experts_key + " (" + std::to_string(m.experts) + ")");
  for (const char* k : {"moe_intermediate_size", "shared_expert_intermediate_size", "n_shared_experts"}) {
    if (f.has(k) && !m.moe()) f.fail(k, "needs experts (num_experts, num_local_experts or n_routed_experts > 1)");
  }
  // With every layer an MoE layer, intermediate_size is unused by Qwen2-MoE: the routed
  // experts have moe_intermediate_size (DeepSeek's dense first layers keep intermediate_size).
  const std::int64_t dense_ffn = m.ffn;
  if (f.has("moe_intermediate_size")) m.ffn = f.positive("moe_intermediate_size");
  if (f.has("shared_expert_intermediate_size")) {
    m.shared_ffn = f.positive("shared_expert_intermediate_size");
    m.shared_gate = true;  // Qwen2-MoE: sigmoid(gate(x)) scales the shared expert
  }
  if (m.moe()) read_deepseek_moe(f, m, dense_ffn);
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

void read_window(Fields& f, ModelSpec& m, const ModelFamily* fam) {
  const bool qwen = f.has("use_sliding_window");
  const bool qwen_on = qwen && f.boolean("use_sliding_window", false);
  const std::int64_t first_local = qwen ? f.integer("max_window_layers", 0) : 0;
  if (!f.has("sliding_window")) return;
  if (qwen && !qwen_on) {
    f.opt("sliding_window");  // present, switched off (Qwen configs): unused
    return;
  }
  const int pattern = fam ? fam->window_pattern : 1;
  if (!qwen && pattern == 0 && !f.has("layer_types") && !f.has("sliding_window_pattern")) return;  // not read by the family: warned
  const std::int64_t window = f.positive("sliding_window");
  m.layer_local.assign(static_cast<std::size_t>(m.layers), false);
  if (f.has("layer_types")) {
    YAML::Node types = f.get("layer_types");
    if (!types.IsSequence() || static_cast<std::int64_t>(types.size()) != m.layers) {
      f.fail("layer_types", "expected a list of num_hidden_layers (" + std::to_string(m.layers) + ") attention kinds");
    }
    for (std::size_t i = 0; i < types.size(); ++i) {
      std::string t = as_string(types[i], f.file_for("layer_types"), "model.layer_types");
      if (t != "sliding_attention" && t != "full_attention") {
        f.fail("layer_types", "'" + t + "' is neither sliding_attention nor full_attention");
      }
      m.layer_local[i] = t == "sliding_attention";
    }
    if (f.has("sliding_window_pattern")) f.opt("sliding_window_pattern");
  } else {
    // Gemma 2/3: every pattern-th layer (counting from 1) is global; Qwen2: layers from
    // max_window_layers up are local; Mistral, Phi-3: all.
    const std::int64_t every = f.has("sliding_window_pattern") ? f.positive("sliding_window_pattern") : pattern;
    for (std::int64_t i = 0; i < m.layers; ++i)
      m.layer_local[static_cast<std::size_t>(i)] = qwen ? i >= first_local : every <= 1 || (i + 1) % every != 0;
  }
  m.local_layers = std::count(m.layer_local.begin(), m.layer_local.end(), true);
  if (window >= m.max_context || m.local_layers == 0) {
    m.layer_local.clear();
    m.local_layers = 0;
    return;
  }
  m.sliding_window = window;
}

}  // namespace llmsim
