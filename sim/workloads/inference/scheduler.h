// Iteration-level continuous batching for one model replica (Orca, OSDI 2022; vLLM,
// SOSP 2023): every iteration re-forms the batch from running decodes, unfinished prefill
// chunks and newly admitted requests, under max_batch sequences and max_batched_tokens
// tokens, with a paged KV cache (fixed-size blocks). When a decode needs a block and none
// is free, the most recently admitted sequence is preempted by recomputation: its blocks
// are freed and it re-enters the queue head with prompt + generated tokens to prefill
// (vLLM's default RECOMPUTE preemption). Pure logic: no simulator types, unit-testable.
#pragma once
#include <cstdint>
#include <deque>
#include <vector>

#include "sim/workloads/inference/config.h"
#include "sim/workloads/inference/lowering.h"

namespace llmsim {

class ReplicaScheduler {
 public:
  ReplicaScheduler(const SchedulerConfig& cfg, std::int64_t total_blocks);

  // True when a request of this size can ever be served here (else it is rejected).
  bool can_ever_fit(std::int64_t prompt, std::int64_t output) const;
  void enqueue(std::size_t req, std::int64_t prompt, std::int64_t output);

  // A sequence whose prompt KV was computed elsewhere (disaggregated prefill): it joins
  // the queue ready to decode, holding `prompt` tokens of KV and `generated` tokens.
  void enqueue_decode(std::size_t req, std::int64_t prompt, std::int64_t output, std::int64_t generated);

  // Forms the next iteration; false when there is nothing to run.
  bool plan(IterationShape& shape);
  // Applies the planned iteration: requests that produced their first token and requests
  // that finished (in batch order). With `handoff` (a prefill-only replica), sequences
  // that produced a token but are not finished leave, their blocks freed, listed there.
  void complete(std::vector<std::size_t>& first_token, std::vector<std::size_t>& finished,
                std::vector<std::size_t>* handoff = nullptr);

  // The replica failed (docs/faults.md "Serving"): every request it holds leaves (running
  // in admission order, then waiting), its KV blocks freed; the caller routes them again.
  std::vector<std::size_t> drain();

  bool idle() const { return running_.empty() && waiting_.empty(); }
  // Work left (prompt tokens to prefill + output tokens to generate): least-loaded routing.
  std::int64_t outstanding_tokens() const;
  std::int64_t free_blocks() const { return free_blocks_; }
  std::int64_t total_blocks() const { return total_blocks_; }
  std::int64_t preemptions() const { return preemptions_; }
  std::size_t running() const { return running_.size(); }
  std::size_t waiting() const { return waiting_.size(); }
  // Requests whose prefill started this plan (for request spans).
  const std::vector<std::size_t>& admitted() const { return admitted_; }
  // Requests preempted by the last plan() (recompute), for per-request counts.
  const std::vector<std::size_t>& preempted() const { return preempted_; }
  // Requests that produced a token in the last complete() (for inter-token latencies).
  const std::vector<std::size_t>& emitted() const { return emitted_; }

 private:
  struct Seq {
    std::size_t req = 0;
    std::int64_t orig_prompt = 0;
    std::int64_t prompt = 0;     // tokens to prefill: orig_prompt + generated after a preemption
    std::int64_t output = 0;     // output tokens wanted
    std::int64_t prefilled = 0;  // prompt tokens computed
    std::int64_t generated = 0;  // output tokens produced
    std::int64_t kv = 0;         // tokens in the KV cache
    std::int64_t blocks = 0;     // KV blocks held
    std::int64_t chunk = 0;      // planned this iteration: prefill tokens, or -1 = decode
  };
  std::int64_t blocks_for(std::int64_t tokens) const { return (tokens + cfg_.block_size - 1) / cfg_.block_size; }
  void preempt_last();
  bool admit(std::int64_t& budget, bool& any_prefill);

  SchedulerConfig cfg_;
  std::int64_t total_blocks_, free_blocks_;
  std::deque<Seq> waiting_;
  std::vector<Seq> running_;   // admission order
  std::vector<std::size_t> admitted_, emitted_, preempted_;
  std::int64_t preemptions_ = 0;
};

}  // namespace llmsim
