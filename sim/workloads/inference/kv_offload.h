// KV offload tiers for the prefix cache (LMCache [LMCACHE] / vLLM's CPU offload, Mooncake
// store [MOONCAKE-TRACE]): a prefix-cache entry evicted from the KV tier (HBM) moves to the
// first offload tier instead of being dropped; a tier over its capacity moves its least
// recently stored entry to the next tier, and the last one drops it. On a hit an entry
// comes back into the KV tier (it leaves the offload tier: the hierarchy is exclusive)
// after a fetch of latency + bytes / min(tier bandwidth, link bandwidth) per device.
// A `shared` remote tier is one pool for every replica (Mooncake store): an entry any
// replica stored there is found by all, and a hit reads a copy (the entry stays).
// Configuration (parsed by parse_kv_offload) and the store itself, which is pure logic.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/core/params.h"
#include "sim/core/units.h"
#include "sim/topo/topology.h"

namespace llmsim {

struct OffloadTierConfig {
  std::string tier;             // ddr | cxl | ssd | remote | the name of a chip memory tier
  bool on_chip = false;         // the chip's own tier (SN40L DDR): no link
  Bytes capacity = 0;           // bytes per device (0 with on_chip = the tier's free bytes)
  BytesPerSecond bandwidth = 0;  // bytes/s per device, tier side
  Seconds latency = 0;           // s per fetch
  std::string link;             // pcie | nvlink-c2c | none
  BytesPerSecond link_bandwidth = 0;  // the chip port's, per direction (0 = no link limit)
  bool shared = false;          // remote: one pool for all replicas; capacity = the pool's bytes
  // What a fetch streams at: the slower of the tier and the link that reaches it.
  BytesPerSecond effective_bandwidth() const {
    return link_bandwidth > 0 && link_bandwidth < bandwidth ? link_bandwidth : bandwidth;
  }
};

struct KvOffloadConfig {
  std::vector<OffloadTierConfig> tiers;  // nearest first
  bool on() const { return !tiers.empty(); }
};

// Seconds to fetch `bytes` (one device's share) from tier `t` into the KV tier.
inline Seconds offload_fetch_seconds(const OffloadTierConfig& t, Bytes bytes) {
  return t.latency + bytes / t.effective_bandwidth();
}

// `scheduler.kv_offload` (config_params.cpp): tiers checked against the topology's chip.
KvOffloadConfig parse_kv_offload(Params& p, const Topology& topo);

class OffloadStore {
 public:
  // One tier's entries, least recently stored (or, shared, used) first; a shared tier is
  // one object held by every replica's store.
  struct Tier {
    std::int64_t capacity = 0;  // entries (0: entries pass through to the next tier)
    bool shared = false;
    std::list<std::uint64_t> lru;
    std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> where;
    std::int64_t dropped = 0;  // entries that left it for no tier (last tier only)
  };
  static std::shared_ptr<Tier> make_tier(std::int64_t capacity, bool shared);
  // Private tiers of `capacity_entries` entries each.
  explicit OffloadStore(const std::vector<std::int64_t>& capacity_entries);
  explicit OffloadStore(std::vector<std::shared_ptr<Tier>> tiers);

  struct TierStats {
    std::int64_t stored = 0;   // entries this store put into the tier (from HBM or the tier above)
    std::int64_t dropped = 0;  // the tier's drops (a shared tier's: every replica's)
  };
  // The nearest tier holding `key`, or -1.
  int find(std::uint64_t key) const;
  // `key` is fetched back into the KV tier: it leaves a private tier; a shared tier keeps
  // it (a copy is read), as most recently used.
  void take(std::uint64_t key);
  // An entry evicted from the KV tier enters the first tier; overflow cascades down. A
  // shared tier that holds the key already only marks it used (nothing is written).
  void store(std::uint64_t key);
  std::size_t tiers() const { return tiers_.size(); }
  bool shared(std::size_t tier) const { return tiers_[tier]->shared; }
  std::int64_t entries(std::size_t tier) const { return static_cast<std::int64_t>(tiers_[tier]->lru.size()); }
  TierStats stats(std::size_t tier) const { return TierStats{stored_[tier], tiers_[tier]->dropped}; }

 private:
  std::vector<std::shared_ptr<Tier>> tiers_;
  std::vector<std::int64_t> stored_;
};

}  // namespace llmsim
