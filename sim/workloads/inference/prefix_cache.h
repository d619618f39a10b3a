// Automatic prefix caching for one replica (vLLM enable_prefix_caching [VLLM-APC]; SGLang's
// radix tree [SGLANG] has the same reuse on block-aligned prefixes): cached prompt blocks
// are found by chained block keys (PrefixKeys), matched from the start of the prompt, full
// blocks only. An entry is held (reference count) by every running sequence whose prompt
// contains it, so a shared prefix occupies KV memory once; an entry nobody holds stays
// cached until evicted, least recently released first. One entry is one hashed block of
// `kv_blocks_per_entry` KV paging blocks (a Mooncake 512-token block = 32 KV blocks of 16).
// Pure logic, unit-testable.
#pragma once
#include <cstdint>
#include <list>
#include <unordered_map>

namespace llmsim {

class PrefixCache {
 public:
  explicit PrefixCache(std::int64_t kv_blocks_per_entry) : per_entry_(kv_blocks_per_entry) {}

  struct Match {
    std::int64_t entries = 0;    // leading keys found in the cache
    std::int64_t idle = 0;       // of those, entries no sequence holds (evictable until taken)
  };
  // Leading keys of keys[0, n) that are cached. No side effects (the router asks every replica).
  Match match(const std::uint64_t* keys, std::int64_t n) const;
  // A sequence takes keys[0, n): cached entries gain a holder, the others are inserted
  // (their KV blocks are the caller's to allocate: n - match().entries new entries).
  void acquire(const std::uint64_t* keys, std::int64_t n);
  // The sequence lets go of keys[0, n) (finished, preempted or handed off); entries left
  // without holders become evictable, the most recently released last.
  void release(const std::uint64_t* keys, std::int64_t n);
  // Evicts the least recently released idle entry, its key to `key` when given (an
  // offload tier takes it: kv_offload.h); false when there is none.
  bool evict_one(std::uint64_t* key = nullptr);

  std::int64_t idle_entries() const { return static_cast<std::int64_t>(lru_.size()); }
  std::int64_t entries() const { return static_cast<std::int64_t>(map_.size()); }
  std::int64_t kv_blocks_per_entry() const { return per_entry_; }

 private:
  struct Entry {
    std::int64_t holders = 0;
    std::list<std::uint64_t>::iterator lru;  // valid while holders == 0
  };
  std::int64_t per_entry_;
  std::unordered_map<std::uint64_t, Entry> map_;
  std::list<std::uint64_t> lru_;  // idle entries, least recently released first
};

}  // namespace llmsim
