#include "sim/workloads/inference/speculative.h"

#include <algorithm>

#include "sim/workloads/inference/lowering.h"

namespace llmsim {
namespace {

// One acceptance probability, positioned at its node.
double read_probability(const YAML::Node& n, const std::string& file, const std::string& what) {
  double v = 0;
  try {
    v = n.as<double>();
  } catch (const YAML::Exception&) {
    throw InputError(pos_of(n, file), what + ": expected a probability in [0, 1], got '" + n.as<std::string>("?") + "'");
  }
  if (!(v >= 0 && v <= 1)) {
    throw InputError(pos_of(n, file), what + ": an acceptance probability must be in [0, 1], got " + resolved_number(v));
  }
  return v;
}

std::vector<double> read_acceptance(Params& g, std::int64_t k) {
  YAML::Node n = g.get("acceptance");
  const std::string file = g.file_for("acceptance");
  const std::string what = "workload.speculative.acceptance";
  if (n.IsScalar()) return std::vector<double>(static_cast<std::size_t>(k), read_probability(n, file, what));
  if (!n.IsSequence()) g.fail("acceptance", "give a probability or a list of k = " + std::to_string(k) + " of them");
  if (n.size() != static_cast<std::size_t>(k)) {
    g.fail("acceptance", "a per-position list needs k = " + std::to_string(k) + " probabilities, got " +
                             std::to_string(n.size()));
  }
  std::vector<double> a;
  for (std::size_t i = 0; i < n.size(); ++i) a.push_back(read_probability(n[i], file, what + "[" + std::to_string(i) + "]"));
  return a;
}

// The draft shares the target's tensor-parallel group (vLLM's default draft tp).
void check_draft(Params& g, const ModelSpec& d, const ModelSpec& target, std::int64_t tp) {
  if (d.vocab != target.vocab) {
    g.fail("draft", "draft '" + d.name + "' has vocab_size " + std::to_string(d.vocab) + " but the target '" +
                        target.name + "' has " + std::to_string(target.vocab) +
                        ": proposals must come from the same tokenizer");
  }
  if (d.kv_heads % tp != 0 || d.heads % tp != 0 || d.hidden % tp != 0) {
    g.fail("draft", "draft '" + d.name + "' runs on the target's tp " + std::to_string(tp) +
                        " devices: tp must divide its heads (" + std::to_string(d.heads) + "), KV heads (" +
                        std::to_string(d.kv_heads) + ") and hidden_size (" + std::to_string(d.hidden) + ")");
  }
}

// splitmix64 (Steele et al. OOPSLA 2014): a counter-based stream, so a draw depends only
// on (seed, request, step, position).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

SpeculativeConfig parse_speculative(Params& g, const std::string& base_dir, const ModelSpec& target, std::int64_t tp,
                                    std::int64_t pp) {
  SpeculativeConfig s;
  s.on = true;
  const bool has_draft = g.has("draft"), has_heads = g.has("heads");
  if (has_draft == has_heads) {
    throw InputError(g.pos(), "workload.speculative: give exactly one of 'draft:' (a draft model) or 'heads:' "
                              "(Medusa/EAGLE-style heads)");
  }
  if (pp > 1) {
    throw InputError(g.pos(), "workload.speculative: not modelled with pipeline parallelism (pp " + std::to_string(pp) +
                                  "; vLLM refuses it too): use pp 1");
  }
  s.k = g.positive("k");
  if (has_draft) {
    s.draft_ref = g.str("draft");
    s.draft = load_model_ref(s.draft_ref, g.pos("draft"), base_dir);
    check_draft(g, s.draft, target, tp);
  } else {
    s.heads = g.positive("heads");
    if (s.k > s.heads) {
      g.fail("k", "k " + std::to_string(s.k) + " exceeds heads (" + std::to_string(s.heads) +
                      "): each head proposes one position");
    }
  }
  s.acceptance = read_acceptance(g, s.k);
  g.finish();
  return s;
}

std::int64_t draw_accepted(const SpeculativeConfig& s, std::uint64_t seed, std::uint64_t req, std::int64_t step) {
  const std::uint64_t base = mix(mix(mix(seed) ^ req) ^ static_cast<std::uint64_t>(step));
  for (std::int64_t i = 0; i < s.k; ++i) {
    // 53 random bits -> uniform in [0, 1).
    const double u = static_cast<double>(mix(base ^ static_cast<std::uint64_t>(i + 1)) >> 11) * 0x1.0p-53;
    if (u >= s.acceptance[static_cast<std::size_t>(i)]) return i;
  }
  return s.k;
}

double speculative_head_params(const SpeculativeConfig& s, const ModelSpec& target) {
  const double d = static_cast<double>(target.hidden), v = static_cast<double>(target.vocab);
  return static_cast<double>(s.heads) * (d * d + d * v);
}

double speculative_weight_bytes(const SpeculativeConfig& s, const ModelSpec& target, std::int64_t tp, double wbytes) {
  if (!s.on) return 0;
  const double params = s.heads > 0 ? speculative_head_params(s, target) : s.draft.params();
  return params / static_cast<double>(tp) * wbytes;
}

double speculative_kv_bytes_per_token(const SpeculativeConfig& s, std::int64_t tp, double kvbytes) {
  if (!s.draft_model()) return 0;
  const ModelSpec& d = s.draft;
  return 2.0 * static_cast<double>(d.layers * (d.kv_heads / tp) * d.head_dim) * kvbytes;
}

std::vector<IterationShape> draft_shapes(const IterationShape& verify, std::int64_t k) {
  std::vector<IterationShape> out;
  const std::int64_t n = verify.decode;
  for (std::int64_t j = 0; j < (n > 0 ? k : 1); ++j) {
    IterationShape d;
    if (j == 0) d.prefill = verify.prefill;
    d.decode = n;
    // The verification holds kv + k + 1 positions per sequence; draft forward j reads kv + 1 + j.
    d.decode_kv = verify.decode_kv - n * (k - j);
    d.emitting = n;  // draft logits: one proposal per decoding sequence
    if (d.tokens() > 0) out.push_back(d);
  }
  return out;
}

std::vector<Op> head_ops(const SpeculativeConfig& s, const ModelSpec& target, std::int64_t tp, std::int64_t rows,
                         const std::string& dtype, bool weights_on_chip) {
  std::vector<Op> ops;
  if (s.heads == 0 || rows == 0) return ops;
  auto gemm = [&](const char* name, std::int64_t n, std::int64_t k) {
    Op o;
    o.kind = OpKind::Gemm;
    o.name = name;
    o.dtype = dtype;
    o.m = rows;
    o.n = n;
    o.k = k;
    o.batch = s.heads;  // the heads are independent matrices over the same rows
    o.weights_on_chip = weights_on_chip;
    return o;
  };
  ops.push_back(gemm("spec_head_block", target.hidden / tp, target.hidden));
  ops.push_back(gemm("spec_head_lm", target.vocab / tp, target.hidden));
  return ops;
}

Json speculative_summary(const SpeculativeConfig& s, const SpeculativeStats& st) {
  Json j;
  j["draft"] = s.drafter();
  j["k"] = s.k;
  j["steps"] = st.steps;
  j["tokens_per_step"] = st.steps > 0 ? static_cast<double>(st.tokens) / static_cast<double>(st.steps) : 0.0;
  j["acceptance"] = st.steps > 0 ? static_cast<double>(st.accepted) / static_cast<double>(st.steps * s.k) : 0.0;
  return j;
}

}  // namespace llmsim
