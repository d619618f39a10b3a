#include "sim/workloads/inference/prefix_cache.h"

namespace llmsim {

PrefixCache::Match PrefixCache::match(const std::uint64_t* keys, std::int64_t n) const {
  Match m;
  for (std::int64_t i = 0; i < n; ++i) {
    auto it = map_.find(keys[i]);
    if (it == map_.end()) break;  // a prefix: the first miss ends the match
    ++m.entries;
    if (it->second.holders == 0) ++m.idle;
  }
  return m;
}

void PrefixCache::acquire(const std::uint64_t* keys, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    auto [it, inserted] = map_.try_emplace(keys[i]);
    Entry& e = it->second;
    if (!inserted && e.holders == 0) lru_.erase(e.lru);
    ++e.holders;
  }
}

void PrefixCache::release(const std::uint64_t* keys, std::int64_t n) {
  // Deepest block first: under LRU eviction a prompt's tail goes before its head, so the
  // prefix other requests share stays longest (vLLM evicts the same way).
  for (std::int64_t i = n - 1; i >= 0; --i) {
    auto it = map_.find(keys[i]);
    if (it == map_.end() || it->second.holders == 0) continue;  // never held: nothing to release
    if (--it->second.holders == 0) it->second.lru = lru_.insert(lru_.end(), keys[i]);
  }
}

bool PrefixCache::evict_one(std::uint64_t* key) {
  if (lru_.empty()) return false;
  if (key) *key = lru_.front();
  map_.erase(lru_.front());
  lru_.pop_front();
  return true;
}

}  // namespace llmsim
