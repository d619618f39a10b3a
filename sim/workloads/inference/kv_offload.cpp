#include "sim/workloads/inference/kv_offload.h"

#include <algorithm>

#include "sim/spec/chip.h"

namespace llmsim {
namespace {

// Offload tiers off the chip, with the link that reaches each by default: host DRAM, CXL
// memory and a local NVMe SSD hang off the host's PCIe; a remote pooled store (Mooncake
// store) is read over the RDMA fabric, whose NIC bandwidth the tier's `bandwidth` gives.
const char* default_link(const std::string& tier) { return tier == "remote" ? "none" : "pcie"; }

std::string chip_tier_names(const ChipSpec& chip) {
  std::string s;
  for (const auto& m : chip.memory) s += (s.empty() ? "" : ", ") + m.tier;
  return s;
}

OffloadTierConfig parse_tier(Params& t, const ChipSpec* chip) {
  OffloadTierConfig c;
  c.tier = t.str("tier");
  const MemoryTierSpec* own = chip ? chip->tier(c.tier) : nullptr;
  if (own) {
    if (c.tier == chip->placement.kv_cache) t.fail("tier", "'" + c.tier + "' is " + chip->name + "'s KV cache tier itself");
    c.on_chip = true;
  } else if (c.tier != "ddr" && c.tier != "cxl" && c.tier != "ssd" && c.tier != "remote") {
    t.fail("tier", "unknown tier '" + c.tier + "' (known: ddr, cxl, ssd, remote" +
                       (chip ? ", or a memory tier of " + chip->name + ": " + chip_tier_names(*chip) : std::string()) + ")");
  }
  for (const char* k : {"capacity", "bandwidth"}) {
    if (!own && !t.has(k)) t.fail(k, std::string("an off-chip tier needs its ") + k + " (per device)");
  }
  // Derived: a chip tier's own bandwidth and latency; its free bytes (capacity 0, sized at start).
  c.capacity = t.qty("capacity", 0);
  // Sized at start: config.resolved.yaml leaves it out, so the file reads back the same.
  if (own && !t.has("capacity")) t.resolved().remove("capacity");
  c.bandwidth = t.qty("bandwidth", own ? own->bandwidth : BytesPerSecond{0});
  if (t.has("capacity") && !(c.capacity > 0)) t.fail("capacity", "must be > 0");
  if (!(c.bandwidth > 0)) t.fail("bandwidth", "must be > 0");
  c.latency = t.qty("latency", own ? own->latency : Seconds{0});
  if (!(c.latency >= 0)) t.fail("latency", "must be >= 0");
  c.link = t.choice("link", own ? "none" : default_link(c.tier));
  c.shared = t.boolean("shared");
  if (c.shared && c.tier != "remote") t.fail("shared", "only a remote store is shared between replicas (tier: remote)");
  if (own && c.link != "none") t.fail("link", "'" + c.tier + "' is on the chip: no link reaches it (link: none)");
  if (c.link != "none" && chip) {
    auto port = std::find_if(chip->ports.begin(), chip->ports.end(), [&](const PortSpec& p) { return p.kind == c.link; });
    if (port == chip->ports.end()) {
      t.fail("link", chip->name + " lists no '" + c.link + "' port; give link: none to use the tier's bandwidth alone");
    }
    c.link_bandwidth = port->bandwidth;
  }
  t.finish();
  return c;
}

}  // namespace

KvOffloadConfig parse_kv_offload(Params& p, const Topology& topo) {
  KvOffloadConfig c;
  const ChipSpec* chip = topo.num_devices() > 0 ? topo.device_chip[0] : nullptr;
  YAML::Node list = p.get("tiers");
  if (!list.IsSequence() || list.size() == 0) p.fail("tiers", "expected a list of tiers ({tier, capacity, bandwidth})");
  for (std::size_t i = 0; i < list.size(); ++i) {
    Params t = p.item("tiers", i);
    c.tiers.push_back(parse_tier(t, chip));
    for (std::size_t j = 0; j + 1 < c.tiers.size(); ++j) {
      if (c.tiers[j].tier == c.tiers.back().tier) t.fail("tier", "tier '" + c.tiers.back().tier + "' is listed twice");
    }
  }
  p.finish();
  return c;
}

std::shared_ptr<OffloadStore::Tier> OffloadStore::make_tier(std::int64_t capacity, bool shared) {
  auto t = std::make_shared<Tier>();
  t->capacity = capacity;
  t->shared = shared;
  return t;
}

OffloadStore::OffloadStore(const std::vector<std::int64_t>& capacity_entries) {
  for (std::int64_t cap : capacity_entries) tiers_.push_back(make_tier(cap, false));
  stored_.assign(tiers_.size(), 0);
}

OffloadStore::OffloadStore(std::vector<std::shared_ptr<Tier>> tiers) : tiers_(std::move(tiers)) {
  stored_.assign(tiers_.size(), 0);
}

int OffloadStore::find(std::uint64_t key) const {
  for (std::size_t t = 0; t < tiers_.size(); ++t)
    if (tiers_[t]->where.count(key)) return static_cast<int>(t);
  return -1;
}

void OffloadStore::take(std::uint64_t key) {
  const int t = find(key);
  if (t < 0) return;
  Tier& tier = *tiers_[static_cast<std::size_t>(t)];
  auto it = tier.where.find(key);
  if (tier.shared) {
    tier.lru.splice(tier.lru.end(), tier.lru, it->second);
    return;
  }
  tier.lru.erase(it->second);
  tier.where.erase(it);
}

void OffloadStore::store(std::uint64_t key) {
  for (auto& tier : tiers_) {  // a key is in one private tier at most
    if (tier->shared) continue;
    auto it = tier->where.find(key);
    if (it == tier->where.end()) continue;
    tier->lru.erase(it->second);
    tier->where.erase(it);
  }
  for (std::size_t t = 0; t < tiers_.size(); ++t) {
    Tier& tier = *tiers_[t];
    if (tier.capacity == 0) continue;  // smaller than one entry: passes it on
    auto have = tier.where.find(key);
    if (have != tier.where.end()) {  // a shared pool that has it already
      tier.lru.splice(tier.lru.end(), tier.lru, have->second);
      return;
    }
    ++stored_[t];
    tier.where[key] = tier.lru.insert(tier.lru.end(), key);
    if (static_cast<std::int64_t>(tier.lru.size()) <= tier.capacity) return;
    // Full: its least recently stored entry moves down a tier.
    key = tier.lru.front();
    tier.lru.pop_front();
    tier.where.erase(key);
    if (t + 1 == tiers_.size()) {
      ++tier.dropped;
      return;
    }
  }
  // Every tier had capacity 0: the entry is dropped (counted on the last).
  if (!tiers_.empty() && tiers_.back()->capacity == 0) ++tiers_.back()->dropped;
}

}  // namespace llmsim
