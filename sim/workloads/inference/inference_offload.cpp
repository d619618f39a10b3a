// `kind: inference` (inference_workload.h): KV copies between the device and memory off it:
// offload tiers (kv_offload.h) and swap preemption (scheduler.h). A KV block's or cache
// entry's bytes are spread over the replica's devices (each holds its stage's layers and
// its TP share); every device moves its own share over its own link at the same time, so a
// copy lasts as long as the device holding the most bytes needs, and one timeline per
// link per replica stands for all its devices' links (no FlowNet: nothing else crosses
// them). The PCIe port carries swaps and the PCIe tiers (host DDR, CXL, SSD) both ways;
// NVLink-C2C and each link-less tier (a remote store's NIC, the chip's own DDR) have their
// own. Copies on one link run one after another. Stores (evictions into the first tier)
// are write-backs that delay nothing themselves but hold the link, so a fetch queued
// behind them waits; overflow between tiers stays on the host (its own timeline). A fetch
// delays only its request; a swap delays the iteration that planned it (vLLM V0 swaps
// before the forward). On the device side each copy streams the KV tier of every device of
// the replica (a store or swap-out reads its blocks, a fetch or swap-in writes them) while
// the link carries them, sharing the tier with the replica's iterations; the link, tens of
// times slower than HBM, still decides when a copy ends.
#include <algorithm>
#include <cmath>
#include <string>

#include "models/device.h"
#include "sim/engine/simulation.h"
#include "sim/workloads/inference/inference_workload.h"

namespace llmsim {

namespace {

// Channel of an offload tier's link: PCIe is channel 0 (shared with swaps); NVLink-C2C
// and every link-less tier get their own.
std::vector<int> link_channels(const KvOffloadConfig& off, int& count) {
  std::vector<int> ch;
  int c2c = -1;
  count = 1;
  for (const OffloadTierConfig& t : off.tiers) {
    if (t.link == "pcie") {
      ch.push_back(0);
    } else if (t.link == "nvlink-c2c") {
      if (c2c < 0) c2c = count++;
      ch.push_back(c2c);
    } else {
      ch.push_back(count++);
    }
  }
  return ch;
}

// The device side of a KV copy whose link is busy from `start`: each device of `stages`
// reads or writes `per_device` bytes of blocks of `block` bytes in its KV tier from then on.
void charge_kv_tiers(Simulation& sim, const std::vector<std::vector<int>>& stages, SimTime start, Bytes per_device,
                     Bytes block, bool read) {
  if (!(per_device > 0)) return;
  std::vector<int> devices;
  for (const auto& stage : stages) devices.insert(devices.end(), stage.begin(), stage.end());
  sim.queue().at(start, [&sim, devices, per_device, block, read] {
    for (int d : devices) stream_kv_blocks(sim, d, per_device, block, read, nullptr);
  });
}

}  // namespace

Bytes InferenceWorkload::kv_layer_block(std::int64_t tokens) const {
  return cfg_.kv_elements_per_layer_per_rank() * dtype_bytes(cfg_.kv_dtype) * static_cast<double>(tokens);
}

SimTime InferenceWorkload::occupy_link(Replica& rep, int c, SimTime after, Seconds seconds) {
  SimTime& free = rep.link_free[static_cast<std::size_t>(c)];
  free = std::max(after, free) + to_simtime(seconds);
  return free;
}

void InferenceWorkload::attach_offload(Replica& rep) {
  const KvOffloadConfig& off = cfg_.sched.offload;
  const double kvb = dtype_bytes(cfg_.kv_dtype);
  offload_entry_device_ = offload_entry_replica_ = 0;
  for (std::int64_t s = 0; s < cfg_.pp; ++s) {
    const double kv_tok =
        static_cast<double>(stage_layers(cfg_, s)) * cfg_.kv_elements_per_layer_per_rank() * kvb + spec_kv_tok();
    const double entry = kv_tok * static_cast<double>(cfg_.sched.prefix_block_tokens);
    offload_entry_device_ = std::max(offload_entry_device_, entry);
    offload_entry_replica_ += entry * static_cast<double>(cfg_.tp);
  }
  offload_channel_ = link_channels(off, link_channels_);
  rep.link_free.resize(static_cast<std::size_t>(link_channels_), 0);
  shared_tiers_.resize(off.tiers.size());
  std::vector<std::shared_ptr<OffloadStore::Tier>> tiers;
  for (std::size_t i = 0; i < off.tiers.size(); ++i) {
    const OffloadTierConfig& t = off.tiers[i];
    if (t.shared) {  // one pool of `capacity` bytes for all replicas: sized once
      if (!shared_tiers_[i]) {
        shared_tiers_[i] =
            OffloadStore::make_tier(static_cast<std::int64_t>(std::floor(t.capacity / offload_entry_replica_)), true);
      }
      tiers.push_back(shared_tiers_[i]);
      continue;
    }
    double bytes = t.capacity;
    if (t.on_chip && bytes == 0) {
      // The chip tier's bytes left after weights and the rest placed there, on the device
      // with the fewest (pipeline engines share the devices: each gets its share below).
      bytes = -1;
      for (const auto& stage : rep.stages)
        for (int d : stage) {
          const double left = sim_->device(d).tier(t.tier).available();
          bytes = bytes < 0 ? left : std::min(bytes, left);
        }
      bytes = std::max(0.0, bytes);
    }
    tiers.push_back(OffloadStore::make_tier(
        static_cast<std::int64_t>(std::floor(bytes / offload_entry_device_)) / cfg_.engines, false));
  }
  rep.sched->attach_offload_tiers(tiers);
  rep.stored_seen.assign(off.tiers.size(), 0);
  offload_totals_.resize(off.tiers.size());
}

void InferenceWorkload::attach_swap(Replica& rep) {
  rep.link_free.resize(static_cast<std::size_t>(link_channels_), 0);
  if (!cfg_.sched.swap_preemption) return;
  swap_block_device_ = 0;
  for (std::int64_t s = 0; s < cfg_.pp; ++s) {
    const double kv_tok = static_cast<double>(stage_layers(cfg_, s)) * cfg_.kv_elements_per_layer_per_rank() *
                              dtype_bytes(cfg_.kv_dtype) +
                          spec_kv_tok();
    swap_block_device_ = std::max(swap_block_device_, kv_tok * static_cast<double>(cfg_.sched.block_size));
  }
  // vLLM: num_cpu_blocks = swap_space // block bytes, per worker; engines split it.
  rep.sched->set_swap_space(static_cast<std::int64_t>(std::floor(cfg_.sched.swap_space / swap_block_device_)) /
                            cfg_.engines);
}

SimTime InferenceWorkload::run_swaps(std::size_t r) {
  Replica& rep = *replicas_[r];
  const SimTime now = sim_->now();
  const std::int64_t blocks = rep.sched->planned_swap_out() + rep.sched->planned_swap_in();
  if (blocks == 0) return now;
  const double seconds = static_cast<double>(blocks) * swap_block_device_ / cfg_.sched.swap_link_bandwidth;
  const SimTime end = occupy_link(rep, 0, now, seconds);
  swap_s_ += seconds;
  const Bytes block = kv_layer_block(cfg_.sched.block_size);
  charge_kv_tiers(*sim_, rep.stages, end - to_simtime(seconds),
                  static_cast<double>(rep.sched->planned_swap_out()) * swap_block_device_, block, true);
  charge_kv_tiers(*sim_, rep.stages, end - to_simtime(seconds),
                  static_cast<double>(rep.sched->planned_swap_in()) * swap_block_device_, block, false);
  Recorder& rec = sim_->recorder();
  if (rec.on()) {
    rec.span(rec.track(sim_->device(rep.stages.front().front()).label(), "kv swap", 3),
             "swap " + std::to_string(rep.sched->planned_swap_out()) + " out, " +
                 std::to_string(rep.sched->planned_swap_in()) + " in",
             "kv_swap", end - to_simtime(seconds), end);
  }
  return end;
}

Json InferenceWorkload::swap_summary() const {
  ReplicaScheduler::SwapStats st;
  for (const auto* s : scheds_) {
    st.outs += s->swap_stats().outs;
    st.ins += s->swap_stats().ins;
    st.blocks_out += s->swap_stats().blocks_out;
    st.blocks_in += s->swap_stats().blocks_in;
    st.fallbacks += s->swap_stats().fallbacks;
  }
  Json j;
  j["swap_outs"] = st.outs;
  j["swap_ins"] = st.ins;
  j["blocks_out"] = st.blocks_out;
  j["blocks_in"] = st.blocks_in;
  j["recompute_fallbacks"] = st.fallbacks;
  j["block_bytes_per_device"] = swap_block_device_;
  j["link_bandwidth_bytes_per_s"] = cfg_.sched.swap_link_bandwidth;
  j["copy_s"] = swap_s_;
  return j;
}

void InferenceWorkload::run_offload_copies(std::size_t r) {
  Replica& rep = *replicas_[r];
  const KvOffloadConfig& off = cfg_.sched.offload;
  const SimTime now = sim_->now();
  Recorder& rec = sim_->recorder();
  const std::string dev = rec.on() ? sim_->device(rep.stages.front().front()).label() : std::string();
  // Stores first: the evicted blocks are read out before fetched bytes overwrite them.
  const OffloadStore& store = *rep.sched->offload();
  bool from_kv_tier = true;  // the first tier holding entries receives them from HBM
  for (std::size_t t = 0; t < store.tiers(); ++t) {
    const std::int64_t n = store.stats(t).stored - rep.stored_seen[t];
    const bool over_link = from_kv_tier;
    if (off.tiers[t].capacity > 0 || off.tiers[t].on_chip) from_kv_tier = false;
    if (n == 0) continue;
    rep.stored_seen[t] = store.stats(t).stored;
    offload_totals_[t].bytes_stored += static_cast<double>(n) * offload_entry_replica_;
    const double dt = static_cast<double>(n) * offload_entry_device_ / off.tiers[t].effective_bandwidth();
    offload_totals_[t].store_s += dt;
    SimTime end;
    if (over_link) {
      end = occupy_link(rep, offload_channel_[t], now, dt);
      charge_kv_tiers(*sim_, rep.stages, end - to_simtime(dt), static_cast<double>(n) * offload_entry_device_,
                      kv_layer_block(cfg_.sched.prefix_block_tokens), true);
    } else {
      end = rep.host_free = std::max(now, rep.host_free) + to_simtime(dt);
    }
    if (rec.on()) {
      rec.span(rec.track(dev, "kv offload store", 3), "store " + std::to_string(n) + " -> " + off.tiers[t].tier,
               "kv_offload", end - to_simtime(dt), end);
    }
  }
  for (const ReplicaScheduler::Fetch& f : rep.sched->fetches()) {
    SimTime end = now;  // tier by tier, each on its own link
    for (std::size_t t = 0; t < f.entries.size(); ++t) {
      if (f.entries[t] == 0) continue;
      const double dt = offload_fetch_seconds(off.tiers[t], static_cast<double>(f.entries[t]) * offload_entry_device_);
      end = occupy_link(rep, offload_channel_[t], end, dt);
      charge_kv_tiers(*sim_, rep.stages, end - to_simtime(dt),
                      static_cast<double>(f.entries[t]) * offload_entry_device_,
                      kv_layer_block(cfg_.sched.prefix_block_tokens), false);
      OffloadTotals& tot = offload_totals_[t];
      ++tot.fetches;
      tot.entries_fetched += f.entries[t];
      tot.bytes_fetched += static_cast<double>(f.entries[t]) * offload_entry_replica_;
      tot.fetch_s += dt;
      if (rec.on()) {
        rec.span(rec.track(dev, "kv offload fetch", 3),
                 "fetch req " + std::to_string(reqs_[f.req].id) + " <- " + off.tiers[t].tier, "kv_offload",
                 end - to_simtime(dt), end);
      }
    }
    const std::int64_t id = f.id;
    sim_->queue().at(end, [this, r, id] {
      if (replicas_[r]->sched->loaded(id)) kick(r);
    }, kOffloadWakePriority);
  }
}

Json InferenceWorkload::offload_summary() const {
  const KvOffloadConfig& off = cfg_.sched.offload;
  std::int64_t looked_up = 0;
  std::vector<std::int64_t> hits(off.tiers.size(), 0), held(off.tiers.size(), 0), dropped(off.tiers.size(), 0);
  for (const auto* s : scheds_) {
    looked_up += s->prefix_stats().blocks;
    for (std::size_t t = 0; t < off.tiers.size(); ++t) {
      hits[t] += s->prefix_stats().offload_hit_blocks[t];
      if (s->offload()->shared(t) && s != scheds_.front()) continue;  // one pool: counted once
      held[t] += s->offload()->entries(t);
      dropped[t] += s->offload()->stats(t).dropped;
    }
  }
  Json tiers = Json::array();
  for (std::size_t t = 0; t < off.tiers.size(); ++t) {
    const OffloadTotals& tot = t < offload_totals_.size() ? offload_totals_[t] : OffloadTotals{};
    Json j;
    j["tier"] = off.tiers[t].tier;
    j["block_hits"] = hits[t];
    j["block_hit_rate"] = looked_up > 0 ? static_cast<double>(hits[t]) / static_cast<double>(looked_up) : 0.0;
    j["fetches"] = tot.fetches;
    j["entries_fetched"] = tot.entries_fetched;
    j["bytes_fetched"] = tot.bytes_fetched;
    j["fetch_s"] = tot.fetch_s;
    j["bytes_stored"] = tot.bytes_stored;
    j["store_s"] = tot.store_s;
    j["shared"] = off.tiers[t].shared;
    j["entries_dropped"] = dropped[t];
    j["entries_at_end"] = held[t];
    j["bandwidth_bytes_per_s"] = off.tiers[t].effective_bandwidth();
    tiers.push_back(j);
  }
  Json out;
  out["entry_bytes_per_device"] = offload_entry_device_;
  out["tiers"] = tiers;
  return out;
}

}  // namespace llmsim
