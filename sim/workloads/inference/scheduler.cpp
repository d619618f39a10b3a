#include "sim/workloads/inference/scheduler.h"

#include <algorithm>

namespace llmsim {

ReplicaScheduler::ReplicaScheduler(const SchedulerConfig& cfg, std::int64_t total_blocks)
    : cfg_(cfg),
      total_blocks_(total_blocks),
      free_blocks_(total_blocks),
      watermark_blocks_(static_cast<std::int64_t>(cfg.watermark * static_cast<double>(total_blocks))) {
  if (cfg_.prefix_caching && cfg_.prefix_block_tokens > 0) {
    // The loader checked that a hashed block is a whole number of KV blocks.
    per_entry_ = cfg_.prefix_block_tokens / cfg_.block_size;
    cache_ = std::make_unique<PrefixCache>(per_entry_);
  }
}

std::int64_t ReplicaScheduler::available(std::int64_t reserved_idle) const {
  return free_blocks_ + (cache_ ? (cache_->idle_entries() - reserved_idle) * per_entry_ : 0);
}

void ReplicaScheduler::take_blocks(std::int64_t n) {
  std::uint64_t key = 0;
  while (free_blocks_ < n && cache_ && cache_->evict_one(&key)) {
    free_blocks_ += per_entry_;
    if (offload_) offload_->store(key);
  }
  free_blocks_ -= n;
}

void ReplicaScheduler::attach_offload(const std::vector<std::int64_t>& capacity_entries) {
  offload_ = std::make_unique<OffloadStore>(capacity_entries);
  prefix_stats_.offload_hit_blocks.assign(capacity_entries.size(), 0);
}

void ReplicaScheduler::attach_offload_tiers(const std::vector<std::shared_ptr<OffloadStore::Tier>>& tiers) {
  offload_ = std::make_unique<OffloadStore>(tiers);
  prefix_stats_.offload_hit_blocks.assign(tiers.size(), 0);
}

void ReplicaScheduler::start_fetch(Seq& s, std::int64_t from, std::int64_t n, bool first) {
  Fetch f{s.req, ++next_fetch_, std::vector<std::int64_t>(offload_->tiers(), 0)};
  for (std::int64_t i = from; i < from + n; ++i) {
    ++f.entries[static_cast<std::size_t>(offload_->find(s.keys[i]))];
    offload_->take(s.keys[i]);
  }
  if (first) {
    for (std::size_t t = 0; t < f.entries.size(); ++t) prefix_stats_.offload_hit_blocks[t] += f.entries[t];
  }
  s.fetch = f.id;
  fetches_.push_back(std::move(f));
}

bool ReplicaScheduler::loaded(std::int64_t fetch_id) {
  for (auto& s : running_) {
    if (s.fetch != fetch_id) continue;
    s.fetch = 0;
    return true;
  }
  return false;
}

void ReplicaScheduler::release(Seq& s) {
  free_blocks_ += s.blocks;
  s.blocks = 0;
  if (cache_ && s.held > 0) cache_->release(s.keys, s.held);
  s.held = 0;
}

std::int64_t ReplicaScheduler::lookup_prefix(Seq& s, std::int64_t need, PrefixCache::Match& hit,
                                             std::int64_t& fetched) const {
  hit = PrefixCache::Match{};
  fetched = 0;
  if (!cache_ || s.kv > 0 || s.full_keys == 0) return need;  // handed-over KV, or nothing to share
  hit = cache_->match(s.keys, s.full_keys);
  // The match goes on into the offload tiers (an exclusive hierarchy: an entry is in one place).
  while (offload_ && hit.entries + fetched < s.full_keys && offload_->find(s.keys[hit.entries + fetched]) >= 0) ++fetched;
  // All full blocks become cache entries (found ones are shared, the others inserted and
  // allocated); the rest of the prompt lives in the sequence's own blocks.
  const std::int64_t own = need - s.full_keys * per_entry_;
  return (s.full_keys - hit.entries) * per_entry_ + own;
}

bool ReplicaScheduler::can_ever_fit(std::int64_t prompt, std::int64_t output) const {
  if (prompt + output > cfg_.max_context) return false;
  // The last speculative step may compute k positions past the output.
  if (blocks_for(prompt + output + spec_k_) > total_blocks_) return false;
  // vLLM's AllocStatus.NEVER: even an empty cache would be left below the watermark.
  if (total_blocks_ - blocks_for(prompt) < watermark_blocks_) return false;
  // Without chunking a prompt is prefilled in one iteration (vLLM refuses longer ones).
  if (!cfg_.chunked_prefill && prompt > cfg_.max_batched_tokens) return false;
  return true;
}

void ReplicaScheduler::enqueue(std::size_t req, std::int64_t prompt, std::int64_t output, const std::uint64_t* keys,
                               std::int64_t n_keys) {
  Seq s;
  s.req = req;
  s.keys = keys;
  s.n_keys = keys ? n_keys : 0;
  if (keys && cfg_.prefix_block_tokens > 0) s.full_keys = std::min(n_keys, prompt / cfg_.prefix_block_tokens);
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

void ReplicaScheduler::set_speculation(std::int64_t k, std::function<std::int64_t(std::size_t, std::int64_t)> draw) {
  spec_k_ = k;
  spec_draw_ = std::move(draw);
}

// Tokens a planned decode produces: 1, or with speculation the accepted proposals + the
// target's own token, capped at the output left (a step never overshoots the request).
std::int64_t ReplicaScheduler::decode_tokens(Seq& s) {
  if (spec_k_ == 0) return 1;
  const std::int64_t accepted = spec_draw_(s.req, s.spec_steps++);
  const std::int64_t n = std::min(accepted + 1, s.output - s.generated);
  ++spec_stats_.steps;
  spec_stats_.accepted += accepted;
  spec_stats_.tokens += n;
  return n;
}

void ReplicaScheduler::preempt_last() {
  Seq s = running_.back();
  running_.pop_back();
  const std::int64_t held_blocks = occupied(s);
  release(s);
  preempted_.push_back(s.req);
  ++preemptions_;
  s.chunk = 0;
  // Swap: every block the sequence holds is copied out (its cache entries too: after the
  // swap-in they are its own blocks). Nothing computed yet, or a fetch in flight: recompute.
  const bool swappable = swap_capacity_ >= 0 && s.kv > 0 && s.fetch == 0;
  if (swappable && swap_used_ + held_blocks <= swap_capacity_) {
    s.blocks = held_blocks;
    swap_used_ += held_blocks;
    swap_out_last_ += held_blocks;
    ++swap_stats_.outs;
    swap_stats_.blocks_out += held_blocks;
    swapped_.push_back(s);
    return;
  }
  if (swappable) ++swap_stats_.fallbacks;
  // Recompute: the generated tokens join the prompt; the KV cache is rebuilt from scratch,
  // and the prefill's last position yields the next token.
  s.prompt = s.orig_prompt + s.generated;
  s.prefilled = 0;
  s.kv = 0;
  s.blocks = 0;
  s.chunk = 0;
  s.fetch = 0;  // a fetch still in flight no longer has a sequence to wake
  waiting_.push_front(s);
}

void ReplicaScheduler::swap_in(std::int64_t& budget, bool& any_prefill) {
  if (!preempted_.empty()) return;  // vLLM V0 swaps in only in a step that preempted nothing
  while (!swapped_.empty() && budget > 0 && static_cast<std::int64_t>(running_.size()) < cfg_.max_batch) {
    Seq& s = swapped_.front();
    const bool decode = s.prefilled == s.prompt;
    const std::int64_t remaining = s.prompt - s.prefilled;
    if (!decode && !cfg_.chunked_prefill && remaining > budget) break;
    // Its blocks back, and a decode's slots for this step's positions.
    const std::int64_t need = decode ? std::max(s.blocks, blocks_for(s.kv + 1 + spec_k_)) : s.blocks;
    // vLLM can_swap_in: LATER below the watermark; but with nothing running no block
    // would ever be freed (vLLM would wait forever): then the watermark is waived.
    if (need > available() - (running_.empty() ? 0 : watermark_blocks_)) break;
    take_blocks(need);
    swap_used_ -= s.blocks;
    swap_in_last_ += s.blocks;
    ++swap_stats_.ins;
    swap_stats_.blocks_in += s.blocks;
    s.blocks = need;
    if (decode) {
      s.chunk = -1;
      budget -= 1 + spec_k_;
    } else {
      s.chunk = std::min(remaining, budget);
      budget -= s.chunk;
      any_prefill = true;
    }
    running_.push_back(s);
    swapped_.pop_front();
  }
}

std::vector<std::size_t> ReplicaScheduler::drain() {
  std::vector<std::size_t> out;
  for (const Seq& s : running_) out.push_back(s.req);
  for (const Seq& s : waiting_) out.push_back(s.req);
  for (const Seq& s : swapped_) out.push_back(s.req);
  running_.clear();
  waiting_.clear();
  swapped_.clear();
  swap_used_ = 0;
  admitted_.clear();
  emitted_.clear();
  preempted_.clear();
  // The failed devices' KV is gone, cached prefixes with it: an empty cache, every block free.
  if (cache_) cache_ = std::make_unique<PrefixCache>(per_entry_);
  free_blocks_ = total_blocks_;
  return out;
}

std::int64_t ReplicaScheduler::outstanding_tokens() const {
  std::int64_t t = 0;
  for (const auto& s : waiting_) t += s.prompt - s.prefilled + s.output - s.generated;
  for (const auto& s : running_) t += s.prompt - s.prefilled + s.output - s.generated;
  for (const auto& s : swapped_) t += s.prompt - s.prefilled + s.output - s.generated;
  return t;
}

bool ReplicaScheduler::admit(std::int64_t& budget, bool& any_prefill) {
  bool admitted = false;
  while (!waiting_.empty() && budget > 0 && static_cast<std::int64_t>(running_.size()) < cfg_.max_batch) {
    Seq& s = waiting_.front();
    // KV for the whole prompt is reserved at admission (vLLM v0 block manager); the first
    // output token's slot is taken by its decode step, like every later one, except for a
    // handed-over sequence, which decodes now: slots for every position its step computes.
    std::int64_t need = blocks_for(s.prompt + (s.prefilled == s.prompt ? 1 + spec_k_ : 0));
    PrefixCache::Match hit;
    std::int64_t fetched = 0;
    const std::int64_t alloc = lookup_prefix(s, need, hit, fetched);
    // First come, first served (no overtaking), keeping the watermark free (vLLM LATER).
    if (alloc > available(hit.idle) - watermark_blocks_) break;
    // The last prompt token is always computed: its logits give the first output token.
    const std::int64_t cached = std::min((hit.entries + fetched) * cfg_.prefix_block_tokens, s.prompt - 1);
    std::int64_t remaining = s.prompt - s.prefilled - cached;
    if (!cfg_.chunked_prefill && remaining > budget) break;
    const bool first = !s.counted && s.kv == 0;  // not a handed-over decode nor a re-admission
    if (fetched > 0) start_fetch(s, hit.entries, fetched, first);  // before evictions refill the tiers
    if (cache_ && s.full_keys > 0 && s.kv == 0) {
      cache_->acquire(s.keys, s.full_keys);  // before evicting: the matched entries are now held
      s.held = s.full_keys;
      s.prefilled = s.kv = cached;
      need -= s.held * per_entry_;
    }
    if (first) {
      s.counted = true;
      prefix_stats_.blocks += s.n_keys;
      prefix_stats_.hit_blocks += hit.entries + fetched;
      prefix_stats_.prompt_tokens += s.prompt;
      prefix_stats_.cached_tokens += cached;
      cache_hits_.emplace_back(s.req, cached);
    }
    if (s.fetch > 0) {
      s.chunk = 0;  // prefills once its offloaded blocks arrived (loaded()); the batch runs on
    } else if (remaining == 0) {
      s.chunk = -1;  // KV handed over by a prefill replica: decodes right away
      budget -= 1 + spec_k_;
    } else {
      s.chunk = std::min(remaining, budget);
      budget -= s.chunk;
      any_prefill = true;
    }
    s.blocks = need;
    take_blocks(alloc);
    admitted_.push_back(s.req);
    admitted = admitted || s.fetch == 0;  // a prefill-only iteration needs one to prefill
    running_.push_back(s);
    waiting_.pop_front();
  }
  return admitted;
}

bool ReplicaScheduler::plan(IterationShape& shape) {
  shape = IterationShape{};
  admitted_.clear();
  preempted_.clear();
  cache_hits_.clear();
  fetches_.clear();
  swap_out_last_ = swap_in_last_ = 0;
  for (auto& s : running_) s.chunk = 0;
  std::int64_t budget = cfg_.max_batched_tokens;
  bool any_prefill = false;
  // Without chunked prefill, prefills run alone and first (vLLM v0 default scheduler).
  // ... and not while sequences are swapped out (those come back first).
  if (!cfg_.chunked_prefill && swapped_.empty() && admit(budget, any_prefill)) {
    // prefill-only iteration
  } else {
    // 1. Decodes of running sequences, oldest first; a block shortage preempts the newest.
    for (std::size_t i = 0; i < running_.size(); ++i) {
      if (running_[i].prefilled < running_[i].prompt || budget <= 0) continue;
      // KV slots for every position the step computes (k + 1 when verifying proposals).
      std::int64_t need = blocks_for(running_[i].kv + 1 + spec_k_) - occupied(running_[i]);
      while (need > available() && running_.size() > i + 1) preempt_last();
      if (need > available()) {  // it is the newest itself: preempt it
        preempt_last();
        break;
      }
      running_[i].blocks += need;
      take_blocks(need);
      running_[i].chunk = -1;
      budget -= 1 + spec_k_;
    }
    // 2. Unfinished prefills (chunked).
    for (auto& s : running_) {
      if (s.prefilled >= s.prompt || budget <= 0 || s.chunk != 0 || s.fetch > 0) continue;
      // Without chunking a prompt back from its fetch still prefills in one piece.
      if (!cfg_.chunked_prefill && s.prompt - s.prefilled > budget) continue;
      s.chunk = std::min(s.prompt - s.prefilled, budget);
      budget -= s.chunk;
      any_prefill = true;
    }
    // 3. Swapped-out sequences back, then 4. new admissions.
    swap_in(budget, any_prefill);
    if (cfg_.chunked_prefill || swapped_.empty()) admit(budget, any_prefill);
  }
  for (const auto& s : running_) {
    if (s.chunk == -1) {
      ++shape.decode;
      shape.decode_q = 1 + spec_k_;
      shape.decode_kv += s.kv + 1 + spec_k_;
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
  // The sequences that stay are compacted in place, in order (no new vector per iteration).
  std::size_t kept = 0;
  emitted_.clear();
  emitted_tokens_.clear();
  for (auto& s : running_) {
    std::int64_t emitted = 0;
    if (s.chunk == -1) {
      emitted = decode_tokens(s);
      s.kv += emitted;
      if (spec_k_ > 0) {
        // The rejected positions' KV slots are overwritten next step: return whole blocks
        // (cache entries held for the prompt's prefix are not in s.blocks).
        const std::int64_t keep = std::max<std::int64_t>(0, blocks_for(s.kv) - s.held * per_entry_);
        if (keep < s.blocks) {
          free_blocks_ += s.blocks - keep;
          s.blocks = keep;
        }
      }
    } else if (s.chunk > 0) {
      s.prefilled += s.chunk;
      s.kv += s.chunk;
      emitted = s.prefilled == s.prompt ? 1 : 0;
    }
    s.chunk = 0;
    if (emitted > 0) {
      emitted_.push_back(s.req);
      emitted_tokens_.push_back(emitted);
      if (s.generated == 0) first_token.push_back(s.req);
      s.generated += emitted;
    }
    if (s.generated >= s.output) {
      release(s);
      finished.push_back(s.req);
      continue;
    }
    if (emitted && handoff) {
      // Prefill pool: the sequence leaves with its KV for a decode replica.
      release(s);
      handoff->push_back(s.req);
      continue;
    }
    running_[kept++] = s;
  }
  running_.resize(kept);
}

}  // namespace llmsim
