// KV offload tiers for the prefix cache (LMCache [LMCACHE] / vLLM's CPU offload, Mooncake
// store [MOONCAKE-TRACE]): a prefix-cache entry evicted from the KV tier (HBM) moves to the
// first offload tier instead of being dropped; a tier over its capacity moves its least
// recently stored entry to the next tier, and the last one drops it. On a hit an entry
// comes back into the KV tier (it leaves the offload tier: the hierarchy is exclusive)
// after a fetch of latency + bytes / min(tier bandwidth, link bandwidth) per device.
// Configuration (parsed by parse_kv_offload) and the store itself, which is pure logic.
#pragma once
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/core/params.h"
#include "sim/topo/topology.h"

namespace llmsim {

struct OffloadTierConfig {
  std::string tier;             // ddr | cxl | ssd | remote | the name of a chip memory tier
  bool on_chip = false;         // the chip's own tier (SN40L DDR): no link
  double capacity = 0;          // bytes per device (0 with on_chip = the tier's free bytes)
  double bandwidth = 0;         // bytes/s per device, tier side
  double latency = 0;           // s per fetch
  std::string link;             // pcie | nvlink-c2c | none
  double link_bandwidth = 0;    // the chip port's, per direction (0 = no link limit)
  // What a fetch streams at: the slower of the tier and the link that reaches it.
  double effective_bandwidth() const {
    return link_bandwidth > 0 && link_bandwidth < bandwidth ? link_bandwidth : bandwidth;
  }
};

struct KvOffloadConfig {
  std::vector<OffloadTierConfig> tiers;  // nearest first
  bool on() const { return !tiers.empty(); }
};

// Seconds to fetch `bytes` (one device's share) from tier `t` into the KV tier.
inline double offload_fetch_seconds(const OffloadTierConfig& t, double bytes) {
  return t.latency + bytes / t.effective_bandwidth();
}

// `scheduler.kv_offload` (config_params.cpp): tiers checked against the topology's chip.
KvOffloadConfig parse_kv_offload(Params& p, const Topology& topo);

class OffloadStore {
 public:
  // Capacity of each tier in prefix-cache entries (0: entries pass through to the next).
  explicit OffloadStore(const std::vector<std::int64_t>& capacity_entries);

  struct TierStats {
    std::int64_t stored = 0;   // entries that entered the tier (from HBM or the tier above)
    std::int64_t dropped = 0;  // entries that left it for no tier (last tier only)
  };
  // The tier holding `key`, or -1.
  int find(std::uint64_t key) const;
  // Removes `key` (fetched back into the KV tier).
  void take(std::uint64_t key);
  // An entry evicted from the KV tier enters the first tier; overflow cascades down.
  void store(std::uint64_t key);
  std::size_t tiers() const { return tiers_.size(); }
  std::int64_t entries(std::size_t tier) const { return static_cast<std::int64_t>(tiers_[tier].lru.size()); }
  const TierStats& stats(std::size_t tier) const { return tiers_[tier].stats; }

 private:
  struct Tier {
    std::int64_t capacity = 0;
    std::list<std::uint64_t> lru;  // least recently stored first
    TierStats stats;
  };
  struct Place {
    int tier = 0;
    std::list<std::uint64_t>::iterator it;
  };
  std::vector<Tier> tiers_;
  std::unordered_map<std::uint64_t, Place> where_;
};

}  // namespace llmsim
