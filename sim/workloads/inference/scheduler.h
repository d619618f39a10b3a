// Iteration-level continuous batching for one model replica (Orca, OSDI 2022; vLLM,
// SOSP 2023): every iteration re-forms the batch from running decodes, unfinished prefill
// chunks and newly admitted requests, under max_batch sequences and max_batched_tokens
// tokens, with a paged KV cache (fixed-size blocks). When a decode needs a block and none
// is free, the most recently admitted sequence is preempted by recomputation: its blocks
// are freed and it re-enters the queue head with prompt + generated tokens to prefill
// (vLLM's default RECOMPUTE preemption).
// The behaviour modelled is vLLM v0.6.3-v0.6.6's V0 engine [VLLM-V0-SCHED]: the chunked-
// prefill scheduler (running decodes, then continuing prefills, then new prefills, FCFS)
// over SelfAttnBlockSpaceManager (block manager v2, the only one from v0.6.3): admission
// allocates ceil(prompt / block_size) blocks and only if `watermark` x total blocks (0.01)
// stay free after it (a prompt that would leave fewer even in an empty cache is never
// admitted: rejected); a decode takes a block when its token starts one, with no
// watermark; a decode that finds none preempts the newest running sequence. With
// `preemption: swap` (set_swap_space) the preempted sequence's blocks are copied to host
// swap space instead (vLLM PreemptionMode.SWAP) and it waits in a swapped queue, swapped
// back in (blocks allocated under the watermark, vLLM can_swap_in) in a step that
// preempted nothing, after the running sequences and before new admissions; without
// chunked prefill no new prompt is admitted while any sequence is swapped out (vLLM
// _schedule_default). When the swap space cannot hold it, vLLM V0 aborts the engine
// ("lack of CPU swap space"); llmsim recomputes instead and counts a fallback. With prefix caching (prefix_cache.h) a
// prompt's cached leading blocks are shared, not allocated, and skip prefill. With offload tiers (kv_offload.h) evicted
// entries move there; a prompt whose match continues into them is admitted (blocks allocated) but prefills only once
// the caller reports the fetch done (loaded()), while the rest of the batch runs: vLLM V1's asynchronous KV-connector
// load (WAITING_FOR_REMOTE_KVS [VLLM-KV-CONNECTOR]). Pure logic: no simulator types, unit-testable.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "sim/workloads/inference/config.h"
#include "sim/workloads/inference/kv_offload.h"
#include "sim/workloads/inference/lowering.h"
#include "sim/workloads/inference/speculative.h"
#include "sim/workloads/inference/prefix_cache.h"

namespace llmsim {

class ReplicaScheduler {
 public:
  ReplicaScheduler(const SchedulerConfig& cfg, std::int64_t total_blocks);

  // Prefix-cache counters, taken at each request's first admission.
  struct PrefixStats {
    std::int64_t blocks = 0;          // hashed prompt blocks looked up (partial last blocks included)
    std::int64_t hit_blocks = 0;      // of those, found cached
    std::int64_t prompt_tokens = 0;
    std::int64_t cached_tokens = 0;   // prompt tokens not prefilled thanks to the cache
    std::vector<std::int64_t> offload_hit_blocks;  // of hit_blocks, those found per offload tier
  };
  // A fetch of offloaded entries back into the KV tier, started by the last plan().
  struct Fetch {
    std::size_t req = 0;
    std::int64_t id = 0;                // loaded(id) when its bytes have arrived
    std::vector<std::int64_t> entries;  // entries per offload tier
  };

  // True when a request of this size can ever be served here (else it is rejected).
  bool can_ever_fit(std::int64_t prompt, std::int64_t output) const;
  // `keys` (optional): the prompt's `n_keys` prefix-block keys (PrefixKeys), kept by pointer.
  void enqueue(std::size_t req, std::int64_t prompt, std::int64_t output, const std::uint64_t* keys = nullptr,
               std::int64_t n_keys = 0);

  // A sequence whose prompt KV was computed elsewhere (disaggregated prefill): it joins
  // the queue ready to decode, holding `prompt` tokens of KV and `generated` tokens.
  void enqueue_decode(std::size_t req, std::int64_t prompt, std::int64_t output, std::int64_t generated);

  // Offload tiers of `capacity_entries` entries each (prefix caching on).
  void attach_offload(const std::vector<std::int64_t>& capacity_entries);
  // Offload tiers given as tier objects, some of them shared with other replicas' stores.
  void attach_offload_tiers(const std::vector<std::shared_ptr<OffloadStore::Tier>>& tiers);

  // Swap preemption with host swap space for `blocks` KV blocks (vLLM num_cpu_blocks).
  void set_swap_space(std::int64_t blocks) { swap_capacity_ = blocks; }
  struct SwapStats {
    std::int64_t outs = 0, ins = 0;              // sequences swapped out / back in
    std::int64_t blocks_out = 0, blocks_in = 0;  // KV blocks copied each way
    std::int64_t fallbacks = 0;                  // preemptions recomputed: the swap space was full
  };
  const SwapStats& swap_stats() const { return swap_stats_; }
  // KV blocks the last plan() swapped out / in (the copies that iteration waits for).
  std::int64_t planned_swap_out() const { return swap_out_last_; }
  std::int64_t planned_swap_in() const { return swap_in_last_; }
  std::size_t swapped() const { return swapped_.size(); }
  const OffloadStore* offload() const { return offload_.get(); }
  const std::vector<Fetch>& fetches() const { return fetches_; }
  // The fetch arrived: its sequence may prefill. False when it no longer waits (preempted).
  bool loaded(std::int64_t fetch_id);

  // Forms the next iteration; false when there is nothing to run.
  bool plan(IterationShape& shape);
  // Applies the planned iteration: requests that produced their first token and requests
  // that finished (in batch order). With `handoff` (a prefill-only replica), sequences
  // that produced a token but are not finished leave, their blocks freed, listed there.
  void complete(std::vector<std::size_t>& first_token, std::vector<std::size_t>& finished,
                std::vector<std::size_t>* handoff = nullptr);

  // Speculative decoding (speculative.h): every decode verifies `k` proposals over k + 1
  // positions (blocks for them reserved, the rejected ones' returned after the step) and
  // produces draw(req, step) + 1 tokens, capped at the output left. k = 0: plain decoding.
  void set_speculation(std::int64_t k, std::function<std::int64_t(std::size_t req, std::int64_t step)> draw);
  const SpeculativeStats& speculative_stats() const { return spec_stats_; }
  // The replica failed (docs/faults.md "Serving"): every request it holds leaves (running
  // in admission order, then waiting), its KV blocks freed; the caller routes them again.
  std::vector<std::size_t> drain();

  bool idle() const { return running_.empty() && waiting_.empty() && swapped_.empty(); }
  // Work left (prompt tokens to prefill + output tokens to generate): least-loaded routing.
  std::int64_t outstanding_tokens() const;
  std::int64_t free_blocks() const { return free_blocks_; }
  std::int64_t total_blocks() const { return total_blocks_; }
  std::int64_t preemptions() const { return preemptions_; }
  std::size_t running() const { return running_.size(); }
  std::size_t waiting() const { return waiting_.size(); }
  // Requests whose prefill started this plan (for request spans).
  const std::vector<std::size_t>& admitted() const { return admitted_; }
  // Requests preempted by the last plan() (recompute or swap), for per-request counts.
  const std::vector<std::size_t>& preempted() const { return preempted_; }
  // Requests that produced a token in the last complete() (for inter-token latencies),
  // and how many each (more than one with speculative decoding).
  const std::vector<std::size_t>& emitted() const { return emitted_; }
  const std::vector<std::int64_t>& emitted_tokens() const { return emitted_tokens_; }
  // Requests first admitted by the last plan() with their cached prompt tokens.
  const std::vector<std::pair<std::size_t, std::int64_t>>& cache_hits() const { return cache_hits_; }
  // The prefix cache (null when prefix caching is off): the router's longest-prefix lookup.
  const PrefixCache* prefix_cache() const { return cache_.get(); }
  const PrefixStats& prefix_stats() const { return prefix_stats_; }

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
    std::int64_t spec_steps = 0; // speculative verification steps so far (the draw's index)
    const std::uint64_t* keys = nullptr;  // prefix-block keys of the prompt
    std::int64_t n_keys = 0;     // all of them (the last block may be partial)
    std::int64_t full_keys = 0;  // those of full blocks: the cacheable ones
    std::int64_t held = 0;       // cache entries held (keys[0, held)); their KV is not in `blocks`
    bool counted = false;        // prefix stats taken (first admission)
    std::int64_t fetch = 0;      // > 0: the offload fetch its prefill waits for
  };
  std::int64_t decode_tokens(Seq& s);
  std::int64_t blocks_for(std::int64_t tokens) const { return (tokens + cfg_.block_size - 1) / cfg_.block_size; }
  void preempt_last();
  // Brings swapped-out sequences back, oldest first, while blocks and budget allow.
  void swap_in(std::int64_t& budget, bool& any_prefill);
  bool admit(std::int64_t& budget, bool& any_prefill);
  // KV blocks a sequence occupies: its own plus those of the cache entries it holds.
  std::int64_t occupied(const Seq& s) const { return s.blocks + s.held * per_entry_; }
  // Free blocks plus the blocks of idle cache entries (evictable on demand), less those of
  // `reserved_idle` idle entries about to be taken.
  std::int64_t available(std::int64_t reserved_idle = 0) const;
  // Takes `n` blocks, evicting idle cache entries as needed (available() must allow it).
  void take_blocks(std::int64_t n);
  // Gives back a sequence's own blocks and its cache entries.
  void release(Seq& s);
  // Shares the cached prefix of a sequence being admitted: returns the blocks to allocate.
  // `fetched`: the entries after the match found in offload tiers (fetched, then allocated).
  std::int64_t lookup_prefix(Seq& s, std::int64_t need, PrefixCache::Match& hit, std::int64_t& fetched) const;
  // Takes keys[from, from + n) out of the offload tiers into a Fetch the sequence waits for.
  void start_fetch(Seq& s, std::int64_t from, std::int64_t n, bool first);

  SchedulerConfig cfg_;
  std::int64_t total_blocks_, free_blocks_;
  std::deque<Seq> waiting_;
  std::deque<Seq> swapped_;          // swapped out (their `blocks` = the blocks to bring back)
  std::int64_t swap_capacity_ = -1;  // host swap blocks (-1: recompute preemption)
  std::int64_t swap_used_ = 0;
  std::int64_t swap_out_last_ = 0, swap_in_last_ = 0;
  SwapStats swap_stats_;
  std::vector<Seq> running_;   // admission order
  std::vector<std::size_t> admitted_, emitted_, preempted_;
  std::vector<std::int64_t> emitted_tokens_;
  std::int64_t spec_k_ = 0;
  std::function<std::int64_t(std::size_t, std::int64_t)> spec_draw_;
  SpeculativeStats spec_stats_;
  std::vector<std::pair<std::size_t, std::int64_t>> cache_hits_;
  std::int64_t preemptions_ = 0;
  std::unique_ptr<PrefixCache> cache_;
  std::unique_ptr<OffloadStore> offload_;
  std::vector<Fetch> fetches_;
  std::int64_t next_fetch_ = 0;
  std::int64_t per_entry_ = 0;  // KV blocks per cache entry
  std::int64_t watermark_blocks_ = 0;  // int(watermark x total blocks), as vLLM rounds it
  PrefixStats prefix_stats_;
};

}  // namespace llmsim
