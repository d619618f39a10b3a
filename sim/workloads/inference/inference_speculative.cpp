// `kind: inference` (inference_workload.h): speculative decoding's hooks (speculative.h):
// the scheduler's acceptance draw, the draft model's forwards before each verification,
// the target's forward, the draft's KV per token and the summary block.
#include <memory>
#include <string>

#include "sim/engine/simulation.h"
#include "sim/workloads/inference/inference_workload.h"
#include "sim/workloads/inference/speculative.h"

namespace llmsim {

void InferenceWorkload::run_target(std::size_t r) {
  Replica& rep = *replicas_[r];
  static const std::string kLabel = "iteration";
  if (!sim_->recorder().on()) {
    rep.graph->run(rep.shape, kLabel);
    return;
  }
  std::string what = cfg_.spec.on && rep.shape.decode > 0 ? "verify k=" + std::to_string(cfg_.spec.k) + " " : "";
  rep.graph->run(rep.shape, what + "iter " + std::to_string(rep.iterations) + " (" +
                                std::to_string(rep.shape.prefill.size()) + " prefill, " +
                                std::to_string(rep.shape.decode) + " decode, " + std::to_string(rep.shape.tokens()) +
                                " tok)");
}

void InferenceWorkload::attach_speculation(Replica& rep, std::size_t idx) {
  if (!cfg_.spec.on) return;
  rep.sched->set_speculation(cfg_.spec.k, [this](std::size_t q, std::int64_t step) {
    return draw_accepted(cfg_.spec, seed_, reqs_[q].id, step);
  });
  if (!cfg_.spec.draft_model()) return;
  rep.draft_graph = std::make_unique<IterationGraph>(*sim_, draft_cfg_, *draft_lowering_, rep.stages,
                                                     [this, idx] { run_draft(idx); });
  rep.draft_graph->set_order(static_cast<int>(idx));
}

void InferenceWorkload::run_draft(std::size_t r) {
  Replica& rep = *replicas_[r];
  if (rep.draft_next >= rep.draft_steps.size()) {
    run_target(r);
    return;
  }
  const IterationShape& d = rep.draft_steps[rep.draft_next++];
  static const std::string kLabel = "draft";
  rep.draft_graph->run(d, !sim_->recorder().on() ? kLabel
                                                 : "draft " + std::to_string(rep.draft_next) + "/" +
                                                       std::to_string(rep.draft_steps.size()) + " (" +
                                                       std::to_string(d.decode) + " seq, " +
                                                       std::to_string(d.tokens()) + " tok)");
}

double InferenceWorkload::spec_kv_tok() const {
  return speculative_kv_bytes_per_token(cfg_.spec, cfg_.tp, dtype_bytes(cfg_.kv_dtype));
}

Json InferenceWorkload::speculative_summary_all() const {
  SpeculativeStats st;
  for (const auto& r : replicas_) st.add(r->sched->speculative_stats());
  return speculative_summary(cfg_.spec, st);
}

}  // namespace llmsim
