// Model loader and parameter arithmetic. Field names are HuggingFace config.json's, so a
// user can point `model:` at a downloaded config; GPT-2 style aliases (n_embd, n_layer,
// n_head, n_inner, n_positions) are accepted for the non-Llama family.
#include "sim/llm/model.h"

#include <dirent.h>

#include <algorithm>
#include <iostream>

#include "sim/llm/model_family.h"
#include "sim/spec/chip.h"

namespace llmsim {
namespace {

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string stem(const std::string& path) {
  auto s = path.find_last_of('/');
  std::string b = s == std::string::npos ? path : path.substr(s + 1);
  auto d = b.find_last_of('.');
  return d == std::string::npos ? b : b.substr(0, d);
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
  return e;
}

double ModelSpec::lm_head_params() const { return tied_embeddings ? 0.0 : static_cast<double>(vocab) * hidden; }

double ModelSpec::attention_params() const {
  double q = static_cast<double>(hidden) * heads * head_dim;
  double kv = 2.0 * hidden * kv_heads * head_dim;
  double o = static_cast<double>(heads) * head_dim * hidden;
  double b = (qkv_bias ? static_cast<double>(heads + 2 * kv_heads) * head_dim : 0.0) + (out_bias ? hidden : 0.0);
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
  // The sigmoid gate scaling the shared expert's output is a hidden -> 1 projection.
  return shared_ffn > 0 ? mlp_block_params(*this, shared_ffn) + static_cast<double>(hidden) : 0.0;
}

double ModelSpec::mlp_params() const {
  double router = moe() ? static_cast<double>(hidden) * experts : 0.0;
  return expert_params() * experts + router + shared_expert_params();
}

double ModelSpec::layer_params() const {
  // RMSNorm has a weight vector, LayerNorm (GPT) weight + bias.
  double norms = static_cast<double>(norms_per_layer) * hidden * (norm_bias ? 2 : 1);
  return attention_params() + mlp_params() + norms;
}

double ModelSpec::params() const {
  double final_norm = static_cast<double>(hidden) * (norm_bias ? 2 : 1);
  return embedding_params() + layers * layer_params() + final_norm + lm_head_params();
}

double ModelSpec::active_params() const {
  if (!moe()) return params();
  // Every token runs the router, the shared expert and top-k of the routed experts.
  double inactive_per_layer = expert_params() * static_cast<double>(experts - experts_per_token);
  return params() - layers * inactive_per_layer;
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
  for (const char* k : {"torch_dtype", "rope_theta", "rms_norm_eps", "layer_norm_epsilon", "rope_scaling",
                        "bos_token_id", "eos_token_id"}) {
    if (f.has(k)) f.get(k);
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
  m.norms_per_layer = fam ? fam->norms_per_layer : 2;
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
  // GPT configs leave n_inner null meaning 4 x hidden (GPT-2 config docs).
  if (f.has("n_inner") && !f.has("intermediate_size")) {
    YAML::Node n = f.get("n_inner");
    m.ffn = n.IsNull() ? 4 * m.hidden : as_int(n, f.file_for("n_inner"), "model.n_inner");
  } else {
    m.ffn = gpt ? f.positive("intermediate_size", 4 * m.hidden) : f.positive("intermediate_size");
  }
  m.vocab = f.positive("vocab_size");
  m.max_context = shape(f, "max_position_embeddings", "n_positions");
  m.tied_embeddings = f.boolean("tie_word_embeddings", fam ? fam->tied_default : gpt);
}

}  // namespace

ModelSpec load_model(const Doc& doc, std::ostream* warn) {
  std::ostream& w = warn ? *warn : std::cerr;
  const bool hf_json = ends_with(doc.path, ".json");
  Fields f(doc, "model");
  ModelSpec m;
  m.file = doc.path;
  m.name = f.str("name", stem(doc.path));
  refuse_unmodelled(f);
  read_extras(f, m, hf_json);
  const ModelFamily* fam = read_family(f, m, hf_json, w);
  read_mlp_kind(f, m, fam);
  read_shapes(f, m, fam);
  read_moe(f, m);
  warn_partial(f, m, w);
  if (!hf_json) f.finish();
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

}  // namespace llmsim
