// `kind: inference` (inference_workload.h): KV offload tiers (kv_offload.h). A prefix-cache
// entry's KV is spread over the replica's devices (each holds its stage's layers and its
// TP share); every device moves its own share over its own link at the same time, so a
// copy lasts as long as the device holding the most bytes needs. Each replica has one
// fetch channel (fetches queue on it, one after another: the device's copy engine and
// link) and one store channel; stores never delay anything (write-back in the
// background, as LMCache stores asynchronously), fetches delay only their request.
#include <algorithm>
#include <cmath>
#include <string>

#include "models/device.h"
#include "sim/engine/simulation.h"
#include "sim/workloads/inference/inference_workload.h"

namespace llmsim {

void InferenceWorkload::attach_offload(Replica& rep) {
  const KvOffloadConfig& off = cfg_.sched.offload;
  const double kvb = dtype_bytes(cfg_.kv_dtype);
  offload_entry_device_ = offload_entry_replica_ = 0;
  for (std::int64_t s = 0; s < cfg_.pp; ++s) {
    const double kv_tok =
        static_cast<double>(stage_layers(cfg_, s)) * cfg_.model.kv_elements_per_layer(cfg_.tp) * kvb + spec_kv_tok();
    const double entry = kv_tok * static_cast<double>(cfg_.sched.prefix_block_tokens);
    offload_entry_device_ = std::max(offload_entry_device_, entry);
    offload_entry_replica_ += entry * static_cast<double>(cfg_.tp);
  }
  std::vector<std::int64_t> capacity;
  for (const OffloadTierConfig& t : off.tiers) {
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
    capacity.push_back(static_cast<std::int64_t>(std::floor(bytes / offload_entry_device_)) / cfg_.engines);
  }
  rep.sched->attach_offload(capacity);
  rep.stored_seen.assign(off.tiers.size(), 0);
  offload_totals_.resize(off.tiers.size());
}

void InferenceWorkload::run_offload_copies(std::size_t r) {
  Replica& rep = *replicas_[r];
  const KvOffloadConfig& off = cfg_.sched.offload;
  const SimTime now = sim_->now();
  Recorder& rec = sim_->recorder();
  const std::string dev = rec.on() ? sim_->device(rep.stages.front().front()).label() : std::string();
  for (const ReplicaScheduler::Fetch& f : rep.sched->fetches()) {
    double seconds = 0;
    for (std::size_t t = 0; t < f.entries.size(); ++t) {
      if (f.entries[t] == 0) continue;
      const double dt = offload_fetch_seconds(off.tiers[t], static_cast<double>(f.entries[t]) * offload_entry_device_);
      seconds += dt;
      OffloadTotals& tot = offload_totals_[t];
      ++tot.fetches;
      tot.entries_fetched += f.entries[t];
      tot.bytes_fetched += static_cast<double>(f.entries[t]) * offload_entry_replica_;
      tot.fetch_s += dt;
    }
    const SimTime begin = std::max(now, rep.fetch_free);
    const SimTime end = begin + to_simtime(seconds);
    rep.fetch_free = end;
    if (rec.on()) {
      rec.span(rec.track(dev, "kv offload fetch", 3), "fetch req " + std::to_string(reqs_[f.req].id), "kv_offload",
               begin, end);
    }
    const std::int64_t id = f.id;
    sim_->queue().at(end, [this, r, id] {
      if (replicas_[r]->sched->loaded(id)) kick(r);
    }, kOffloadWakePriority);
  }
  const OffloadStore& store = *rep.sched->offload();
  for (std::size_t t = 0; t < store.tiers(); ++t) {
    const std::int64_t n = store.stats(t).stored - rep.stored_seen[t];
    if (n == 0) continue;
    rep.stored_seen[t] = store.stats(t).stored;
    offload_totals_[t].bytes_stored += static_cast<double>(n) * offload_entry_replica_;
    // Into tier t at its bandwidth (from the tier above, or from the KV tier for the first).
    const SimTime begin = std::max(now, rep.store_free);
    const SimTime end = begin + to_simtime(static_cast<double>(n) * offload_entry_device_ / off.tiers[t].effective_bandwidth());
    rep.store_free = end;
    if (rec.on()) {
      rec.span(rec.track(dev, "kv offload store", 3), "store " + std::to_string(n) + " -> " + off.tiers[t].tier,
               "kv_offload", begin, end);
    }
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
