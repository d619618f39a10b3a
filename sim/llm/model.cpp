// Model loader and parameter arithmetic. Field names are HuggingFace config.json's, so a
// user can point `model:` at a downloaded config; GPT-2 style aliases (n_embd, n_layer,
// n_head, n_inner, n_positions) are accepted for the non-Llama family.
#include "sim/llm/model.h"

#include <cmath>
#include <dirent.h>

#include <algorithm>
#include <iostream>

#include "sim/core/paths.h"
#include "sim/llm/model_family.h"
#include "sim/spec/chip.h"

namespace llmsim {
namespace {

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Architectures with a plain (non-gated) GELU MLP, learned positions and biases
// (GPT-2 / GPT-3 layout; Brown et al. 2020 "Language Models are Few-Shot Learners" §2.1).
const std::vector<std::string> kGptArchitectures = {"GPT2LMHeadModel", "GPT3ForCausalLM", "OpenAIGPTLMHeadModel"};
// Without a known model_type: activations that mean a gated MLP down(act(gate(x)) * up(x))
// (Llama/Mistral SwiGLU) and ones that mean a plain 2-matrix MLP (GPT).
const std::vector<std::string> kGatedActivations = {"silu", "swiglu", "swish"};
const std::vector<std::string> kPlainActivations = {"gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "gelu_fast"};

// Reads a required positive int under `key` or, failing that, its GPT-2 alias.
std::int64_t shape(Fields& f, const std::string& key, const std::string& alias) {
  if (!alias.empty() && !f.has(key) && f.has(alias)) return f.positive(alias);
  return f.positive(key);
}

}  // namespace

double ModelSpec::embedding_params() const {
  double e = static_cast<double>(vocab) * hidden;
  if (learned_positions) e += static_cast<double>(max_context) * hidden;
  e += static_cast<double>(type_vocab) * hidden;
  return e;
}

double ModelSpec::head_matrix_params() const {
  return tied_embeddings ? static_cast<double>(vocab) * hidden : lm_head_params();
}

double ModelSpec::lm_head_params() const {
  const double head = tied_embeddings ? 0.0 : static_cast<double>(vocab) * hidden + (lm_head_bias ? vocab : 0);
  return head + encoder_head_params();
}

double ModelSpec::encoder_head_params() const {
  if (!encoder) return 0.0;
  // HF BertForPreTraining: cls.predictions.transform (dense h x h + bias, LayerNorm) and the
  // decoder's vocab bias (its matrix is tied to the word embeddings); bert.pooler (dense
  // h x h + bias) and cls.seq_relationship (h x 2 + 2).
  const double h = static_cast<double>(hidden);
  return (h * h + h + 2 * h) + static_cast<double>(vocab) + (h * h + h) + (2 * h + 2);
}

double ModelSpec::attention_params() const {
  const double h = static_cast<double>(hidden), nh = static_cast<double>(heads);
  const double out_b = out_bias ? h : 0.0;
  if (mla()) {
    // [DEEPSEEK-V2] sec. 2.1 (eqs. 9-19), as HF modeling_deepseek_v3 builds them:
    // q_a_proj (+ its RMSNorm) and q_b_proj, or one q_proj; kv_a_proj_with_mqa to the
    // latent + RoPE key, its RMSNorm, kv_b_proj up to per-head K (nope) and V; o_proj.
    const double qd = static_cast<double>(qk_dim());
    const double q = q_lora_rank > 0 ? h * q_lora_rank + q_lora_rank + static_cast<double>(q_lora_rank) * nh * qd
                                     : h * nh * qd;
    const double kv = h * (kv_lora_rank + qk_rope_head_dim) + kv_lora_rank +
                      static_cast<double>(kv_lora_rank) * nh * (qk_nope_head_dim + v_head_dim);
    return q + kv + nh * v_head_dim * h + out_b;
  }
  double q = h * heads * head_dim;
  double kv = 2.0 * hidden * kv_heads * head_dim;
  double o = nh * head_dim * hidden;
  double b = (qkv_bias ? static_cast<double>(heads + 2 * kv_heads) * head_dim : 0.0) + out_b;
  return q + kv + o + b;
}

namespace {
// A gated (gate, up, down) or plain (up, down) MLP of width `width`, with its biases.
double mlp_block_params(const ModelSpec& m, std::int64_t width) {
  const double mats = m.gated_mlp ? 3.0 : 2.0;
  const double bias = m.mlp_bias ? (mats - 1.0) * width + m.hidden : 0.0;
  return mats * m.hidden * width + bias;
}
}  // namespace

double ModelSpec::expert_params() const { return mlp_block_params(*this, ffn); }

double ModelSpec::shared_expert_params() const {
  if (shared_ffn <= 0) return 0.0;
  // Qwen2-MoE's sigmoid gate scaling the shared expert's output is a hidden -> 1 projection.
  return mlp_block_params(*this, shared_ffn) + (shared_gate ? static_cast<double>(hidden) : 0.0);
}

double ModelSpec::mlp_params() const {
  double router = moe() ? static_cast<double>(hidden) * experts + (router_bias ? experts : 0) : 0.0;
  return expert_params() * experts + router + shared_expert_params();
}

double ModelSpec::dense_mlp_params() const { return mlp_block_params(*this, dense_ffn > 0 ? dense_ffn : ffn); }

double ModelSpec::norm_params() const {
  // RMSNorm has a weight vector, LayerNorm (GPT) weight + bias; Q/K norms one per head_dim.
  return static_cast<double>(norms_per_layer) * hidden * (norm_bias ? 2 : 1) + (qk_norm ? 2.0 * head_dim : 0.0);
}

double ModelSpec::layer_params() const { return attention_params() + mlp_params() + norm_params(); }

double ModelSpec::layers_params(std::int64_t first, std::int64_t count) const {
  const std::int64_t dense = std::max<std::int64_t>(0, std::min(first + count, dense_layers) - first);
  const double dense_layer = attention_params() + dense_mlp_params() + norm_params();
  return static_cast<double>(dense) * dense_layer + static_cast<double>(count - dense) * layer_params();
}

double ModelSpec::params() const {
  double final_norm = static_cast<double>(hidden) * (norm_bias ? 2 : 1);
  return embedding_params() + layers_params(0, layers) + final_norm + lm_head_params();
}

double ModelSpec::active_params() const {
  if (!moe()) return params();
  // Every token runs the router, the shared expert(s) and top-k of the routed experts.
  double inactive_per_layer = expert_params() * static_cast<double>(experts - experts_per_token);
  return params() - static_cast<double>(layers - dense_layers) * inactive_per_layer;
}

double ModelSpec::expert_touch_fraction(double tokens) const {
  if (!moe() || tokens <= 0) return moe() ? 0.0 : 1.0;
  const double pick = static_cast<double>(experts_per_token) / static_cast<double>(experts);
  return 1.0 - std::pow(1.0 - std::min(1.0, pick), tokens);
}

std::int64_t ModelSpec::kv_heads_per_rank(std::int64_t tp) const {
  if (mla()) return 1;
  return kv_heads >= tp ? (kv_heads + tp - 1) / tp : 1;
}

double ModelSpec::kv_elements_per_layer(std::int64_t tp) const {
  if (mla()) return static_cast<double>(kv_lora_rank + qk_rope_head_dim);
  return 2.0 * static_cast<double>(kv_heads_per_rank(tp) * head_dim);
}

std::int64_t ModelSpec::local_layers_in(std::int64_t first, std::int64_t count) const {
  std::int64_t n = 0;
  for (std::int64_t i = first; i < first + count && i < static_cast<std::int64_t>(layer_local.size()); ++i)
    n += layer_local[static_cast<std::size_t>(i)] ? 1 : 0;
  return n;
}

double ModelSpec::kv_bytes_per_sequence(std::int64_t context, double dtype_bytes) const {
  const std::int64_t local = sliding_window > 0 ? local_layers : 0;
  const double tokens = static_cast<double>(layers - local) * context +
                        static_cast<double>(local) * std::min(context, sliding_window > 0 ? sliding_window : context);
  return tokens * kv_elements_per_layer() * dtype_bytes;
}

namespace {

// Catalog-only fields, and informational config.json fields that do not change the arithmetic.
void read_extras(Fields& f, ModelSpec& m, bool hf_json) {
  if (!hf_json) {
    f.str("display", "");
    if (f.has("sources")) f.get("sources");
    if (f.has("parameters")) {
      m.nominal_params = f.num("parameters");
      if (m.nominal_params <= 0) f.fail("parameters", "must be a positive parameter count (e.g. 405e9)");
    }
  }
  if (f.has("architectures")) {
    YAML::Node a = f.get("architectures");
    if (!a.IsSequence() || a.size() == 0) f.fail("architectures", "expected a list such as [LlamaForCausalLM]");
    m.architecture = as_string(a[0], f.file_for("architectures"), "model.architectures[0]");
  }
}

// MLP kind and biases: from the family when model_type is known, else from the
// architecture (GPT layout) and the activation name (silu gated, gelu plain).
void read_mlp_kind(Fields& f, ModelSpec& m, const ModelFamily* fam) {
  bool gpt = (fam && fam->gpt_layout) ||
             std::find(kGptArchitectures.begin(), kGptArchitectures.end(), m.architecture) != kGptArchitectures.end();
  std::string key = fam ? fam->activation_key : "hidden_act";
  if (!f.has(key)) key = f.has("activation_function") ? "activation_function" : "hidden_act";
  // Gemma configs carry a legacy hidden_act beside hidden_activation, which wins (HF Gemma).
  if (key != "hidden_act" && f.has("hidden_act")) f.opt("hidden_act");
  m.hidden_act = f.str(key, fam ? fam->default_act : gpt ? "gelu_new" : "silu");
  bool gated = std::find(kGatedActivations.begin(), kGatedActivations.end(), m.hidden_act) != kGatedActivations.end();
  bool plain = std::find(kPlainActivations.begin(), kPlainActivations.end(), m.hidden_act) != kPlainActivations.end();
  if (!gated && !plain) {
    f.fail(key, "unknown activation '" + m.hidden_act + "' (gated: silu, swiglu; plain: gelu, gelu_new, relu)");
  }
  if (gpt && gated) {
    f.fail(key, (m.architecture.empty() ? m.model_type : m.architecture) + " uses a plain GELU MLP, not '" +
                    m.hidden_act + "'");
  }
  m.gated_mlp = fam ? fam->gated : gated;
  m.learned_positions = gpt;
  m.qkv_bias = m.out_bias = m.mlp_bias = m.norm_bias = gpt;
  if (fam && fam->qkv_bias) m.qkv_bias = true;
  // LLaMA-family switches: attention_bias puts biases on Q, K, V and O; mlp_bias on the MLP.
  if (f.boolean("attention_bias", false)) m.qkv_bias = m.out_bias = true;
  if (f.boolean("mlp_bias", false)) m.mlp_bias = true;
  // A LLaMA-style layout with PaLM's parallel attention + MLP block (llmsim's key, Falcon's
  // name; Falcon reads its own in read_parallel_families).
  if (m.model_type != "falcon" && f.boolean("parallel_attn", false)) m.parallel_block = true;
  m.norms_per_layer = fam ? fam->norms_per_layer : 2;
  m.qk_norm = fam && fam->qk_norm;
}

void read_shapes(Fields& f, ModelSpec& m, const ModelFamily* fam) {
  const bool gpt = m.learned_positions;
  m.layers = shape(f, "num_hidden_layers", "n_layer");
  m.hidden = shape(f, "hidden_size", "n_embd");
  m.heads = shape(f, "num_attention_heads", "n_head");
  m.kv_heads = f.positive("num_key_value_heads", m.heads);
  if (m.heads % m.kv_heads != 0) {
    f.fail("num_key_value_heads", "must divide num_attention_heads (" + std::to_string(m.heads) + ")");
  }
  if (!f.has("head_dim") && m.hidden % m.heads != 0) {
    f.fail("num_attention_heads", "does not divide hidden_size; give head_dim explicitly");
  }
  m.head_dim = f.positive("head_dim", m.hidden / m.heads);
  // multi_query (GPTBigCode; Falcon reads it in read_parallel_families): one KV head.
  if (m.model_type != "falcon" && !f.has("num_key_value_heads") && f.boolean("multi_query", false)) m.kv_heads = 1;
  // A plain (GPT-style) MLP without a width is 4 x hidden: GPT-2 n_inner null, Falcon
  // ffn_hidden_size absent (their config classes).
  const std::int64_t four_h = 4 * m.hidden;
  if (f.has("n_inner") && !f.has("intermediate_size")) {
    YAML::Node n = f.get("n_inner");
    m.ffn = n.IsNull() ? four_h : as_int(n, f.file_for("n_inner"), "model.n_inner");
  } else if (f.has("ffn_hidden_size") && !f.has("intermediate_size")) {
    m.ffn = f.positive("ffn_hidden_size");
  } else {
    if (f.has("n_inner")) f.opt("n_inner");  // null beside intermediate_size
    m.ffn = !m.gated_mlp ? f.positive("intermediate_size", four_h) : f.positive("intermediate_size");
  }
  m.vocab = f.positive("vocab_size");
  // FalconConfig's max_position_embeddings default (2048); its configs leave it out.
  const bool falcon = m.model_type == "falcon";
  m.max_context = falcon && !f.has("max_position_embeddings") ? 2048 : shape(f, "max_position_embeddings", "n_positions");
  m.tied_embeddings = f.boolean("tie_word_embeddings", fam ? fam->tied_default : gpt);
  m.rotary_fraction = f.num("partial_rotary_factor", 1.0);
}

}  // namespace

namespace {
// The one line a sliding window earns: what is capped, and what serving approximates.
void warn_window(Fields& f, const ModelSpec& m, std::ostream& warn) {
  if (m.sliding_window <= 0) return;
  warn << "llmsim: warning: " << f.pos("sliding_window").str() << ": sliding_window " << m.sliding_window << " on "
       << m.local_layers << " of " << m.layers
       << " layers: their attention and `fit` KV are capped at the window; a serving KV pool still reserves "
          "whole-context KV on every layer (its blocks span all layers), an overestimate of KV use for "
          "sequences past "
       << m.sliding_window << " tokens\n";
}
}  // namespace

ModelSpec load_model(const Doc& doc, std::ostream* warn) {
  std::ostream& w = warn ? *warn : std::cerr;
  const bool hf_json = ends_with(doc.path, ".json");
  Fields f(doc, "model");
  ModelSpec m;
  m.file = doc.path;
  m.name = f.str("name", path_stem(doc.path));
  refuse_unmodelled(f);
  read_extras(f, m, hf_json);
  const ModelFamily* fam = read_family(f, m, hf_json, w);
  read_mlp_kind(f, m, fam);
  read_shapes(f, m, fam);
  read_parallel_families(f, m);
  read_mla(f, m);
  read_moe(f, m);
  read_window(f, m, fam);
  read_encoder(f, m);
  warn_window(f, m, w);
  if (hf_json) {
    warn_unread(f, m, w);
  } else {
    f.finish();
  }
  return m;
}

std::string default_model_dir() { return project_root() + "/workloads/models"; }

std::vector<std::string> model_names() {
  std::vector<std::string> out;
  std::string dir = default_model_dir();
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (ends_with(n, ".yaml")) out.push_back(n.substr(0, n.size() - 5));
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ModelSpec load_model_ref(const std::string& ref, const SourcePos& from, const std::string& base_dir,
                         std::ostream* warn) {
  bool is_path = ref.find('/') != std::string::npos || ends_with(ref, ".yaml") || ends_with(ref, ".json");
  std::string path;
  if (is_path) {
    path = (ref[0] == '/' || base_dir.empty()) ? ref : base_dir + "/" + ref;
    // Workload files name paths relative to the project root as well as to themselves.
    if (FILE* fp = std::fopen(path.c_str(), "r")) {
      std::fclose(fp);
    } else if (ref[0] != '/') {
      path = project_root() + "/" + ref;
    }
  } else {
    auto names = model_names();
    if (std::find(names.begin(), names.end(), ref) == names.end()) {
      std::string hint = nearest(ref, names);
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw InputError(from, "unknown model '" + ref + "' (catalog: " + list + ")",
                       hint.empty() ? "" : "did you mean '" + hint + "'?");
    }
    path = default_model_dir() + "/" + ref + ".yaml";
  }
  return load_model(load_doc(path), warn);
}

std::int64_t pipeline_stage_layers(std::int64_t layers, std::int64_t pp, std::int64_t s) {
  const std::int64_t base = layers / pp, rem = layers % pp;
  if (rem == 0) return base;
  const std::int64_t middle = std::max<std::int64_t>(0, pp - 2);
  const std::int64_t rank = s == 0 ? middle : (s == pp - 1 ? middle + 1 : s - 1);
  return base + (rank < rem ? 1 : 0);
}

std::int64_t pipeline_stage_first_layer(std::int64_t layers, std::int64_t pp, std::int64_t s) {
  std::int64_t first = 0;
  for (std::int64_t i = 0; i < s; ++i) first += pipeline_stage_layers(layers, pp, i);
  return first;
}

}  // namespace llmsim
