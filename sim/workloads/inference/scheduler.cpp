#include "sim/workloads/inference/scheduler.h"

#include <algorithm>

namespace llmsim {

ReplicaScheduler::ReplicaScheduler(const SchedulerConfig& cfg, std::int64_t total_blocks)
    : cfg_(cfg), total_blocks_(total_blocks), free_blocks_(total_blocks) {}

bool ReplicaScheduler::can_ever_fit(std::int64_t prompt, std::int64_t output) const {
  if (prompt + output > cfg_.max_context) return false;
  if (blocks_for(prompt + output) > total_blocks_) return false;
  // Without chunking a prompt is prefilled in one iteration (vLLM refuses longer ones).
  if (!cfg_.chunked_prefill && prompt > cfg_.max_batched_tokens) return false;
  return true;
}

void ReplicaScheduler::enqueue(std::size_t req, std::int64_t prompt, std::int64_t output) {
  Seq s;
  s.req = req;
  s.prompt = prompt;
  s.orig_prompt = prompt;
  s.output = output;
  waiting_.push_back(s);
}

void ReplicaScheduler::enqueue_decode(std::size_t req, std::int64_t prompt, std::int64_t output, std::int64_t generated) {
  Seq s;
  s.req = req;
  s.orig_prompt = s.prompt = s.prefilled = s.kv = prompt;
  s.output = output;
  s.generated = generated;
  waiting_.push_back(s);
}

void ReplicaScheduler::preempt_last() {
  Seq s = running_.back();
  running_.pop_back();
  free_blocks_ += s.blocks;
  // Recompute: the generated tokens join the prompt; the KV cache is rebuilt from scratch,
  // and the prefill's last position yields the next token.
  s.prompt = s.orig_prompt + s.generated;
  s.prefilled = 0;
  s.kv = 0;
  s.blocks = 0;
  s.chunk = 0;
  waiting_.push_front(s);
  preempted_.push_back(s.req);
  ++preemptions_;
}

std::vector<std::size_t> ReplicaScheduler::drain() {
  std::vector<std::size_t> out;
  for (const Seq& s : running_) out.push_back(s.req);
  for (const Seq& s : waiting_) out.push_back(s.req);
  running_.clear();
  waiting_.clear();
  admitted_.clear();
  emitted_.clear();
  preempted_.clear();
  free_blocks_ = total_blocks_;
  return out;
}

std::int64_t ReplicaScheduler::outstanding_tokens() const {
  std::int64_t t = 0;
  for (const auto& s : waiting_) t += s.prompt - s.prefilled + s.output - s.generated;
  for (const auto& s : running_) t += s.prompt - s.prefilled + s.output - s.generated;
  return t;
}

bool ReplicaScheduler::admit(std::int64_t& budget, bool& any_prefill) {
  bool admitted = false;
  while (!waiting_.empty() && budget > 0 && static_cast<std::int64_t>(running_.size()) < cfg_.max_batch) {
    Seq& s = waiting_.front();
    // KV for the whole prompt is reserved at admission (vLLM v0 block manager).
    std::int64_t need = blocks_for(s.prompt + 1);
    if (need > free_blocks_) break;  // first come, first served: no overtaking
    std::int64_t remaining = s.prompt - s.prefilled;
    if (!cfg_.chunked_prefill && remaining > budget) break;
    if (remaining == 0) {
      s.chunk = -1;  // KV handed over by a prefill replica: decodes right away
      budget -= 1;
    } else {
      s.chunk = std::min(remaining, budget);
      budget -= s.chunk;
      any_prefill = true;
    }
    s.blocks = need;
    free_blocks_ -= need;
    admitted_.push_back(s.req);
    running_.push_back(s);
    waiting_.pop_front();
    admitted = true;
  }
  return admitted;
}

bool ReplicaScheduler::plan(IterationShape& shape) {
  shape = IterationShape{};
  admitted_.clear();
  preempted_.clear();
  for (auto& s : running_) s.chunk = 0;
  std::int64_t budget = cfg_.max_batched_tokens;
  bool any_prefill = false;
  // Without chunked prefill, prefills run alone and first (vLLM v0 default scheduler).
  if (!cfg_.chunked_prefill && admit(budget, any_prefill)) {
    // prefill-only iteration
  } else {
    // 1. Decodes of running sequences, oldest first; a block shortage preempts the newest.
    for (std::size_t i = 0; i < running_.size(); ++i) {
      if (running_[i].prefilled < running_[i].prompt || budget <= 0) continue;
      std::int64_t need = blocks_for(running_[i].kv + 1) - running_[i].blocks;
      while (need > free_blocks_ && running_.size() > i + 1) preempt_last();
      if (need > free_blocks_) {  // it is the newest itself: preempt it
        preempt_last();
        break;
      }
      running_[i].blocks += need;
      free_blocks_ -= need;
      running_[i].chunk = -1;
      --budget;
    }
    // 2. Unfinished prefills (chunked), then 3. new admissions.
    for (auto& s : running_) {
      if (s.prefilled >= s.prompt || budget <= 0 || s.chunk != 0) continue;
      s.chunk = std::min(s.prompt - s.prefilled, budget);
      budget -= s.chunk;
      any_prefill = true;
    }
    admit(budget, any_prefill);
  }
  for (const auto& s : running_) {
    if (s.chunk == -1) {
      ++shape.decode;
      shape.decode_kv += s.kv + 1;
      ++shape.emitting;
    } else if (s.chunk > 0) {
      shape.prefill.push_back({s.chunk, s.prefilled + s.chunk});
      if (s.prefilled + s.chunk == s.prompt) ++shape.emitting;
    }
  }
  return shape.tokens() > 0;
}

void ReplicaScheduler::complete(std::vector<std::size_t>& first_token, std::vector<std::size_t>& finished,
                                std::vector<std::size_t>* handoff) {
  std::vector<Seq> keep;
  keep.reserve(running_.size());
  emitted_.clear();
  for (auto& s : running_) {
    bool emitted = false;
    if (s.chunk == -1) {
      s.kv += 1;
      emitted = true;
    } else if (s.chunk > 0) {
      s.prefilled += s.chunk;
      s.kv += s.chunk;
      emitted = s.prefilled == s.prompt;
    }
    s.chunk = 0;
    if (emitted) {
      emitted_.push_back(s.req);
      if (s.generated == 0) first_token.push_back(s.req);
      ++s.generated;
    }
    if (s.generated >= s.output) {
      free_blocks_ += s.blocks;
      finished.push_back(s.req);
      continue;
    }
    if (emitted && handoff) {
      // Prefill pool: the sequence leaves with its KV for a decode replica.
      free_blocks_ += s.blocks;
      handoff->push_back(s.req);
      continue;
    }
    keep.push_back(s);
  }
  running_.swap(keep);
}

}  // namespace llmsim
