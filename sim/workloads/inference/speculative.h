// Speculative decoding (Leviathan et al. ICML 2023 [SPEC-LEVIATHAN]; Chen et al. 2023
// [SPEC-CHEN]): each decode step of a sequence proposes k tokens cheaply, then the target
// model verifies all of them in ONE forward over k+1 positions; the accepted prefix plus
// one token from the target's own distribution are kept. Proposals come from a small draft
// model run on the same devices (its k decode forwards batched over the running
// sequences), or from self-drafting heads on the target's last hidden state (Medusa
// [MEDUSA], EAGLE [EAGLE]). Acceptance is a model input (fixed rate, or per position),
// drawn per sequence and step from the workload seed. Pure logic: no simulator types.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/engine/workload.h"
#include "sim/llm/model.h"
#include "sim/ops/op.h"

namespace llmsim {

struct IterationShape;

struct SpeculativeConfig {
  bool on = false;
  std::string draft_ref;            // catalog name or path ("" with heads)
  ModelSpec draft;                  // the draft model (draft_model() only)
  std::int64_t heads = 0;           // Medusa/EAGLE-style heads (0 with a draft model)
  std::int64_t k = 0;               // proposed tokens per step
  std::vector<double> acceptance;   // per position i (size k): P(accept i | 0..i-1 accepted)
  bool draft_model() const { return on && heads == 0; }
  std::string drafter() const { return heads > 0 ? std::to_string(heads) + " heads" : draft.name; }
};

// Reads `speculative:`; checks it against the target model and the parallelism (the draft
// shares the target's tp group; vLLM runs no speculation with pipeline parallelism).
SpeculativeConfig parse_speculative(Params& g, const std::string& base_dir, const ModelSpec& target, std::int64_t tp,
                                    std::int64_t pp);

// Proposals accepted at this step of sequence `req` (0..k): position i is accepted with
// probability acceptance[i] while all before it were. Drawn from (seed, req, step) alone,
// so the outcome does not depend on batching or event order.
std::int64_t draw_accepted(const SpeculativeConfig& s, std::uint64_t seed, std::uint64_t req, std::int64_t step);

// Parameters of the self-drafting heads: Medusa head = a residual SiLU block (hidden x
// hidden) and its own LM head (hidden x vocab) [MEDUSA] §2.1.1.
double speculative_head_params(const SpeculativeConfig& s, const ModelSpec& target);
// Bytes one device holds for the drafter's weights (draft model or heads, 1/tp each).
double speculative_weight_bytes(const SpeculativeConfig& s, const ModelSpec& target, std::int64_t tp, double wbytes);
// Draft-model KV bytes per token on one device (0 with heads: they keep no cache).
double speculative_kv_bytes_per_token(const SpeculativeConfig& s, std::int64_t tp, double kvbytes);

// The draft model's forwards for one iteration whose verification shape is `verify`: the
// first also prefills this iteration's prompt chunks (the draft needs their KV too), then
// one decode token per decoding sequence per forward, k forwards (only the prefill one
// when nothing decodes).
std::vector<IterationShape> draft_shapes(const IterationShape& verify, std::int64_t k);

// Medusa heads on the last stage, over `rows` hidden states (one per emitting sequence).
std::vector<Op> head_ops(const SpeculativeConfig& s, const ModelSpec& target, std::int64_t tp, std::int64_t rows,
                         const std::string& dtype, bool weights_on_chip);

// Verification steps and their outcomes, for summary.json inference.speculative.
struct SpeculativeStats {
  std::int64_t steps = 0;      // verification forwards of one sequence
  std::int64_t tokens = 0;     // tokens those steps produced (accepted + 1, capped at the output)
  std::int64_t accepted = 0;   // proposals accepted
  void add(const SpeculativeStats& o) {
    steps += o.steps;
    tokens += o.tokens;
    accepted += o.accepted;
  }
};

// summary.json inference.speculative: drafter, k, steps, tokens_per_step (measured) and
// acceptance (the measured share of proposals accepted).
Json speculative_summary(const SpeculativeConfig& s, const SpeculativeStats& st);

}  // namespace llmsim
