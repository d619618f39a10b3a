// Family table and the config.json fields that change the arithmetic. Family facts are
// the HuggingFace transformers modeling code and config-class defaults [HF-TRANSFORMERS]:
// every decoder below except GPT-2, GPT-J, GPT-NeoX and Falcon builds its MLP as
// down(act(gate(x)) * up(x)) whatever the activation is called, so Gemma's "gelu" is GeGLU
// [GEMMA-2024], not a plain MLP.
#include "sim/llm/model_family.h"

#include <vector>

namespace llmsim {
namespace {

// type, gated, gpt_layout, tied_default, qkv_bias, norms_per_layer, activation_key,
// default_act, qk_norm, window_pattern
const ModelFamily kFamilies[] = {
    {"llama", true, false, false, false, 2, "hidden_act", "silu", false, 0},
    // Mistral, Mixtral and Phi-3 apply sliding_window on every layer.
    {"mistral", true, false, false, false, 2, "hidden_act", "silu", false, 1},
    {"mixtral", true, false, false, false, 2, "hidden_act", "silu", false, 1},
    {"phi3", true, false, false, false, 2, "hidden_act", "silu", false, 1},  // fused qkv, gate_up: same counts
    // Qwen: the window (when use_sliding_window) is on layers from max_window_layers up.
    {"qwen2", true, false, false, true, 2, "hidden_act", "silu", false, 0},
    {"qwen2_moe", true, false, false, true, 2, "hidden_act", "silu", false, 0},
    {"qwen3", true, false, false, false, 2, "hidden_act", "silu", true, 0},
    {"qwen3_moe", true, false, false, false, 2, "hidden_act", "silu", true, 0},
    // Gemma ties the LM head to the embeddings unless told otherwise; Gemma 2 and 3 add a
    // norm after attention and after the MLP (4 per layer) and alternate local and global
    // layers [GEMMA2-2024] [GEMMA3-2025].
    {"gemma", true, false, true, false, 2, "hidden_activation", "gelu_pytorch_tanh", false, 0},
    {"gemma2", true, false, true, false, 4, "hidden_activation", "gelu_pytorch_tanh", false, 2},
    {"gemma3_text", true, false, true, false, 4, "hidden_activation", "gelu_pytorch_tanh", true, 6},
    {"gpt2", false, true, true, false, 2, "activation_function", "gelu_new", false, 0},
    // Parallel attention + MLP blocks, LayerNorm, plain MLP (read_parallel_families).
    {"gpt_neox", false, false, false, false, 2, "hidden_act", "gelu", false, 0},
    {"gptj", false, false, false, false, 1, "activation_function", "gelu_new", false, 0},
    {"falcon", false, false, true, false, 2, "activation", "gelu", false, 0},
    // Multi-head latent attention and fine-grained MoE (read_mla, read_moe).
    {"deepseek_v2", true, false, false, false, 2, "hidden_act", "silu", false, 0},
    {"deepseek_v3", true, false, false, false, 2, "hidden_act", "silu", false, 0},
    // BERT: learned positions, biases on every linear, LayerNorm, plain GELU MLP, MLM decoder
    // tied to the word embeddings (BertConfig; Devlin et al. 2019 [BERT]); post-LN (two
    // LayerNorms per layer, same count as pre-LN) and bidirectional (read_encoder).
    {"bert", false, true, true, false, 2, "hidden_act", "gelu", false, 0},
};

// Fields whose presence (non-null) changes shapes llmsim does not model, and why.
struct Refused {
  const char* key;
  const char* why;
};
const Refused kRefused[] = {
    {"text_config", "a multimodal wrapper: save its text_config as a config.json of its own"},
    {"vision_config", "a vision tower: only the language model is modelled"},
    {"cross_attention_layers", "cross-attention layers (Mllama) would be read as self-attention layers"},
};

// config.json fields that change neither the parameter count nor the cost llmsim models:
// token ids, dropout, initialisation, norm epsilons, RoPE frequencies and scaling, softcaps,
// routing details (group-limited top-k and scaling keep the uniform-routing cost), bookkeeping.
const char* const kInformational[] = {
    "_name_or_path", "transformers_version", "torch_dtype", "use_cache", "initializer_range", "initializer_factor",
    "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "decoder_start_token_id",
    "rope_theta", "rope_scaling", "rope_local_base_freq", "rotary_emb_base", "rotary", "rope_type", "use_mrope",
    "original_max_position_embeddings", "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon",
    "attention_dropout", "attention_probs_dropout_prob", "hidden_dropout", "hidden_dropout_prob", "resid_pdrop",
    "embd_pdrop", "attn_pdrop", "classifier_dropout", "summary_type", "summary_use_proj", "summary_activation",
    "summary_proj_to_labels", "summary_first_dropout", "task_specific_params", "tokenizer_class", "auto_map",
    "pretraining_tp", "gradient_checkpointing", "scale_attn_weights", "n_ctx", "output_router_logits",
    "router_aux_loss_coef", "aux_loss_alpha", "seq_aux", "norm_topk_prob", "routed_scaling_factor", "scoring_func",
    "topk_method", "n_group", "topk_group", "ep_size", "router_jitter_noise", "query_pre_attn_scalar",
    "attn_logit_softcapping", "final_logit_softcapping", "cache_implementation", "alibi",
    "apply_residual_connection_post_layernorm", "use_bfloat16", "reorder_and_upcast_attn",
    "scale_attn_by_inverse_layer_idx",
    "sliding_window_size",  // Gemma 2's legacy duplicate of sliding_window
};

void warn_at(std::ostream& warn, const SourcePos& pos, const std::string& msg) {
  warn << "llmsim: warning: " << pos.str() << ": " << msg << "\n";
}

// Keys not read so far, in document order; null values (an unset option) are skipped.
// Fields::finish() names the first unread key; marking it read and asking again walks
// them all.
std::vector<std::string> unread_keys(Fields& f) {
  std::vector<std::string> out;
  std::vector<std::string> keys;
  for (auto kv : f.node()) keys.push_back(kv.first.Scalar());
  for (std::size_t guard = 0; guard <= keys.size(); ++guard) {
    try {
      f.finish();
      break;
    } catch (const InputError& e) {
      const std::string msg = e.what(), tag = "unknown field '";
      const auto at = msg.find(tag);
      std::string key;
      for (const auto& k : keys)  // the longest key the message names (keys may hold quotes)
        if (at != std::string::npos && msg.compare(at + tag.size(), k.size() + 1, k + "'") == 0 && k.size() >= key.size())
          key = k;
      if (key.empty()) break;
      if (f.opt(key)) out.push_back(key);  // opt marks it read; undefined for null
    }
  }
  return out;
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

bool read_parallel_families(Fields& f, ModelSpec& m) {
  const std::string& t = m.model_type;
  if (t != "gpt_neox" && t != "gptj" && t != "falcon") return false;
  m.norm_bias = true;  // LayerNorm
  if (t == "gpt_neox") {
    // GPTNeoXConfig: biases on every linear, use_parallel_residual default true, rotary_pct 0.25.
    m.qkv_bias = m.out_bias = m.mlp_bias = true;
    m.parallel_block = f.boolean("use_parallel_residual", true);
    m.rotary_fraction = f.num("rotary_pct", 0.25);
  } else if (t == "gptj") {
    // GPT-J: one ln_1 feeding attention and MLP in parallel; biased MLP and LM head only.
    m.mlp_bias = m.lm_head_bias = true;
    m.parallel_block = true;
    m.rotary_fraction = static_cast<double>(f.positive("rotary_dim", 64)) / static_cast<double>(m.head_dim);
  } else {
    // FalconConfig: bias (false), parallel_attn (true), multi_query (true: one KV head),
    // new_decoder_architecture (grouped KV heads num_kv_heads, two LayerNorms per layer).
    m.qkv_bias = m.out_bias = m.mlp_bias = f.boolean("bias", false);
    const bool new_arch = f.boolean("new_decoder_architecture", false);
    m.parallel_block = f.boolean("parallel_attn", true) || new_arch;
    const std::string kv_key = f.has("n_head_kv") ? "n_head_kv" : "num_kv_heads";
    if (new_arch) {
      m.kv_heads = f.positive(kv_key, m.heads);
      if (m.heads % m.kv_heads != 0)
        f.fail(kv_key, "must divide num_attention_heads (" + std::to_string(m.heads) + ")");
      m.norms_per_layer = f.positive("num_ln_in_parallel_attn", 2);
      if (m.norms_per_layer > 2) f.fail("num_ln_in_parallel_attn", "must be 1 or 2");
    } else {
      m.kv_heads = f.boolean("multi_query", true) ? 1 : m.heads;
      m.norms_per_layer = m.parallel_block ? 1 : 2;
    }
  }
  if (m.rotary_fraction <= 0 || m.rotary_fraction > 1) {
    f.fail(t == "gptj" ? "rotary_dim" : "rotary_pct", "must leave a rotated share of head_dim in (0, 1]");
  }
  return true;
}

void read_mla(Fields& f, ModelSpec& m) {
  if (!f.has("kv_lora_rank")) return;
  m.kv_lora_rank = f.positive("kv_lora_rank");
  m.q_lora_rank = f.has("q_lora_rank") ? f.positive("q_lora_rank") : 0;  // null: a full q_proj (V2-Lite)
  m.qk_nope_head_dim = f.positive("qk_nope_head_dim");
  m.qk_rope_head_dim = f.positive("qk_rope_head_dim");
  m.v_head_dim = f.positive("v_head_dim");
  m.head_dim = m.qk_nope_head_dim + m.qk_rope_head_dim;  // the query/key width per head
}

void read_encoder(Fields& f, ModelSpec& m) {
  if (m.model_type != "bert") return;
  m.encoder = true;
  m.type_vocab = f.positive("type_vocab_size", 2);
  const std::string pos = f.str("position_embedding_type", "absolute");
  if (pos != "absolute") f.fail("position_embedding_type", "not modelled: '" + pos + "' (only absolute positions)");
}

void refuse_unmodelled(Fields& f) {
  for (const auto& r : kRefused) {
    if (f.has(r.key)) f.fail(r.key, std::string("not modelled: ") + r.why);
  }
}

void warn_unread(Fields& f, const ModelSpec& m, std::ostream& warn) {
  for (const char* k : kInformational) f.opt(k);
  if (f.has("num_nextn_predict_layers")) {
    const std::int64_t mtp = f.integer("num_nextn_predict_layers");
    if (mtp > 0) {
      warn_at(warn, f.pos("num_nextn_predict_layers"),
              "num_nextn_predict_layers " + std::to_string(mtp) +
                  ": the multi-token-prediction module is not counted (" + m.name +
                  " is modelled as its main model, as served without MTP speculation)");
    }
  }
  std::vector<std::string> left = unread_keys(f);
  if (left.empty()) return;
  std::string list;
  for (const auto& k : left) list += (list.empty() ? "" : ", ") + k;
  warn_at(warn, f.pos(left.front()),
          "config fields llmsim does not read: " + list +
              " (taken not to change the parameter count or cost; check the count with `llmsim check`)");
}

}  // namespace llmsim
