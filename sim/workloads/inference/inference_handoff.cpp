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
  auto left = std::make_shared<int>(static_cast<int>(cfg_.tp * cfg_.pp));
  ++kv_transfers_;
  handoffs_[q] = {from, to};
  const std::int64_t attempt = res_[q].retries;  // a failover since makes this move stale
  for (std::int64_t s = 0; s < cfg_.pp; ++s) {
    double kv_tok = static_cast<double>(stage_layers(cfg_, s)) * cfg_.kv_elements_per_layer_per_rank() *
                        dtype_bytes(cfg_.kv_dtype) +
                    spec_kv_tok();
    // The whole prompt's KV moves, the cached prefix's with the rest (Mooncake's transfer
    // engine sends the request's KV cache; the decode pool keeps no prefix cache of its own).
    kv_transfer_bytes_ += kv_tok * static_cast<double>(reqs_[q].prompt_tokens * cfg_.tp);
    // The paged pool's unit: one layer's block of block_size tokens (vLLM's cache layout).
    const Bytes block = kv_layer_block(cfg_.sched.block_size);
    for (std::int64_t t = 0; t < cfg_.tp; ++t) {
      move_kv(*sim_, replicas_[from]->stages[s][t], replicas_[to]->stages[s][t],
              kv_tok * static_cast<double>(reqs_[q].prompt_tokens), block, [this, left, to, q, attempt] {
                if (--*left > 0 || res_[q].retries != attempt) return;
                handoffs_.erase(q);
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
  for (const auto& [q, from] : leaving) {
    if (health_.up(from)) {
      hand_off(from, q);
    } else {
      retry(q);  // its engine failed in this instant: the KV to send died with it
    }
  }
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
  sim.device(f.device).set_up(!begins);
  if (!sim_) return FaultOutcome::Handled;  // at 0 s, before start(), which reads it
  if (!begins) {
    for (std::size_t r : health_.device_up(f.device)) kick(r);
    std::vector<std::size_t> parked;
    parked.swap(parked_);
    for (std::size_t q : parked) join(q);
    kick_joined();
    return FaultOutcome::Handled;
  }
  const std::vector<std::size_t> failed = health_.device_down(f.device);
  if (!failed.empty()) check_pools_up(f.text());
  for (std::size_t r : failed) {
    ++replicas_[r]->epoch;  // a launch waiting for swap copies is void
    replicas_[r]->swapping = false;
    std::vector<std::size_t> lost = replicas_[r]->sched->drain();
    for (auto it = handoffs_.begin(); it != handoffs_.end();) {  // KV moving out of or into r
      if (it->second.first != r && it->second.second != r) {
        ++it;
        continue;
      }
      lost.push_back(it->first);
      it = handoffs_.erase(it);
    }
    std::sort(lost.begin(), lost.end());
    for (std::size_t q : lost) retry(q);
  }
  return FaultOutcome::Handled;
}

void InferenceWorkload::retry(std::size_t q) {
  ++res_[q].retries;
  res_[q].retry_lost_s += to_seconds(sim_->now()) - routed_[q];
  arrive(q);
}

void InferenceWorkload::check_pools_up(const std::string& why) const {
  const std::size_t split = prefill_split(), n = replicas_.size();
  if (split == 0) return;  // colocated: requests wait for a replica back (arrive parks them)
  for (const bool prefill : {true, false}) {
    const std::size_t lo = prefill ? 0 : split, hi = prefill ? split : n;
    if (health_.any_up(lo, hi)) continue;
    throw InfeasibleError(why + ": the " + (prefill ? "prefill" : "decode") + " pool has no instance left (all " +
                          std::to_string((hi - lo) / static_cast<std::size_t>(cfg_.engines)) +
                          " down); its requests cannot fail over (docs/faults.md \"Serving\")");
  }
}

}  // namespace llmsim
