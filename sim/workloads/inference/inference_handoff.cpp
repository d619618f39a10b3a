// `kind: inference` (inference_workload.h): the disaggregated KV hand-off between the
// prefill and decode pools, and failover when a device fault takes a replica down
// (docs/faults.md "Serving").
#include <algorithm>
#include <memory>

#include "models/device.h"
#include "sim/engine/simulation.h"
#include "sim/workloads/inference/inference_workload.h"

namespace llmsim {

void InferenceWorkload::hand_off(std::size_t from, std::size_t q) {
  const std::size_t split = prefill_split();
  std::size_t to = route(split, replicas_.size(), next_rr_decode_);
  const ModelSpec& m = cfg_.model;
  auto left = std::make_shared<int>(static_cast<int>(cfg_.tp * cfg_.pp));
  ++kv_transfers_;
  for (std::int64_t s = 0; s < cfg_.pp; ++s) {
    double kv_tok = static_cast<double>(stage_layers(cfg_, s)) * m.kv_elements_per_layer(cfg_.tp) * dtype_bytes(cfg_.kv_dtype) +
                  spec_kv_tok();
    // The whole prompt's KV moves, the cached prefix's with the rest (Mooncake's transfer
    // engine sends the request's KV cache; the decode pool keeps no prefix cache of its own).
    kv_transfer_bytes_ += kv_tok * static_cast<double>(reqs_[q].prompt_tokens * cfg_.tp);
    for (std::int64_t t = 0; t < cfg_.tp; ++t) {
      move_kv(*sim_, replicas_[from]->stages[s][t], replicas_[to]->stages[s][t],
              kv_tok * static_cast<double>(reqs_[q].prompt_tokens), [this, left, to, q] {
                if (--*left > 0) return;
                defer_handoff(kv_arrived_, to, q);
              });
    }
  }
}

void InferenceWorkload::defer_handoff(std::vector<std::pair<std::size_t, std::size_t>>& list, std::size_t r, std::size_t q) {
  list.push_back({q, r});
  if (handoff_pass_armed_) return;
  handoff_pass_armed_ = true;
  sim_->queue().at(sim_->now(), [this] { run_handoffs(); }, kHandoffPriority);
}

void InferenceWorkload::run_handoffs() {
  handoff_pass_armed_ = false;
  auto leaving = std::move(prefill_done_);
  auto arrived = std::move(kv_arrived_);
  prefill_done_.clear();
  kv_arrived_.clear();
  std::sort(leaving.begin(), leaving.end());
  std::sort(arrived.begin(), arrived.end());
  for (const auto& [q, from] : leaving) hand_off(from, q);
  std::vector<std::size_t> touched;
  for (const auto& [q, to] : arrived) {
    replicas_[to]->sched->enqueue_decode(q, reqs_[q].prompt_tokens, reqs_[q].output_tokens, 1);
    touched.push_back(to);
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (std::size_t r : touched) kick(r);
}

FaultOutcome InferenceWorkload::fault(Simulation& sim, const Fault& f, bool begins) {
  if (f.kind != "device-down" || f.device < 0) return FaultOutcome::Apply;
  const double now = to_seconds(sim.now());
  sim.device(f.device).set_up(!begins);
  if (!sim_) return FaultOutcome::Handled;  // at 0 s, before start(), which reads it
  if (!begins) {
    for (std::size_t r : health_.device_up(f.device)) kick(r);
    std::vector<std::size_t> parked;
    parked.swap(parked_);
    for (std::size_t q : parked) arrive(q);
    return FaultOutcome::Handled;
  }
  for (std::size_t r : health_.device_down(f.device)) {
    if (prefill_split() > 0)
      throw InfeasibleError(f.text() + ": failover of disaggregated prefill/decode pools is not modelled (docs/faults.md)");
    ++replicas_[r]->epoch;  // a launch waiting for swap copies is void
    replicas_[r]->swapping = false;
    for (std::size_t q : replicas_[r]->sched->drain()) {
      ++res_[q].retries;
      res_[q].retry_lost_s += now - routed_[q];
      arrive(q);
    }
  }
  return FaultOutcome::Handled;
}

}  // namespace llmsim
