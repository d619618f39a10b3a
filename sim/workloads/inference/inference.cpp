// `kind: inference` (inference_workload.h): lifecycle, placement, routing and the
// iteration loop. Registered as "inference".
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include "models/device.h"
#include "sim/engine/simulation.h"
#include "sim/output/atomic_file.h"
#include "sim/workloads/inference/dataflow.h"
#include "sim/workloads/inference/inference_workload.h"

namespace llmsim {

void InferenceWorkload::load(const Doc& doc, const Topology& topo, ChipCatalog& catalog) {
  (void)catalog;
  cfg_ = parse_inference(doc, topo);
  router_ = RouterPolicy{cfg_.router, cfg_.router_load_cap, cfg_.sched.max_batched_tokens};
  if (cfg_.use_trace) reqs_ = read_trace(cfg_.trace, &keys_);
}

void InferenceWorkload::start(Simulation& sim) {
  sim_ = &sim;
  // --seed on the command line overrides the workload's requests.seed.
  seed_ = sim.options().seed_given ? sim.options().seed : cfg_.seed;
  if (!cfg_.use_trace) reqs_ = generate_requests(cfg_.synthetic, seed_, &keys_);
  res_.assign(reqs_.size(), RequestResult{});
  admit_t_.assign(reqs_.size(), -1);
  last_token_.assign(reqs_.size(), -1);
  if (cfg_.slo_stop_attainment > 0)
    slo_watch_ = SloWatch(SloTargets{cfg_.slo_ttft, cfg_.slo_tpot}, cfg_.slo_stop_attainment, reqs_.size());
  routed_.assign(reqs_.size(), 0);
  const ChipSpec& chip = sim.device(0).chip();
  lowering_ = std::make_unique<Lowering>(cfg_, chip);
  if (cfg_.spec.draft_model()) {
    // The draft model: the same serving setup (dtypes, tp group) with the draft's shapes.
    draft_cfg_ = cfg_;
    draft_cfg_.model = cfg_.spec.draft;
    draft_cfg_.spec = SpeculativeConfig{};
    draft_lowering_ = std::make_unique<Lowering>(draft_cfg_, chip);
  }
  const std::int64_t per = cfg_.tp * cfg_.pp;
  for (std::int64_t r = 0; r < cfg_.replicas; ++r) {
    Replica proto;
    proto.stages.resize(static_cast<std::size_t>(cfg_.pp));
    for (std::int64_t s = 0; s < cfg_.pp; ++s)
      for (std::int64_t t = 0; t < cfg_.tp; ++t) proto.stages[s].push_back(static_cast<int>(r * per + s * cfg_.tp + t));
    const std::int64_t blocks = place(proto);
    // Pipeline engines (vLLM's virtual engines): each has its own batch and a 1/engines
    // share of the KV pool; they share the devices, whose FIFO cores then overlap one
    // engine's stage s with another's stage s+1.
    for (std::int64_t e = 0; e < cfg_.engines; ++e) {
      auto rep = std::make_unique<Replica>();
      const std::size_t idx = replicas_.size();
      rep->graph = std::make_unique<IterationGraph>(sim, cfg_, *lowering_, proto.stages,
                                                    [this, idx] { finish_iteration(idx); });
      rep->graph->set_order(static_cast<int>(idx));
    rep->stages = proto.stages;
      health_.add(proto.stages);
      rep->sched = std::make_unique<ReplicaScheduler>(cfg_.sched, std::max<std::int64_t>(1, blocks / cfg_.engines));
      if (cfg_.sched.offload.on()) attach_offload(*rep);
      attach_swap(*rep);
      attach_speculation(*rep, idx);
      scheds_.push_back(rep->sched.get());
      replicas_.push_back(std::move(rep));
    }
  }
  for (int d = 0; d < sim.num_devices(); ++d)  // down from 0 s (a fault before start)
    if (!sim.device(d).up()) health_.device_down(d);
  check_pools_up("a device down from the start");
  if (!replicas_.empty()) {
    check_kv_holds_a_request(reqs_, replicas_.front()->sched->total_blocks(), cfg_.sched.block_size, cfg_.engines,
                             kv_fit_);
  }
  // Requests arriving at one instant are routed in id order by one event, ahead of
  // whatever else happens then (kArrivalPriority): routing must not depend on the order
  // of same-time events (--debug-tie-shuffle; found by the `simulate` fuzz target).
  // Unshuffled, this is the order the per-request events had: inserted first, in id order.
  for (std::size_t i = 0; i < reqs_.size();) {
    std::size_t end = i + 1;
    const SimTime t = to_simtime(reqs_[i].arrival);
    while (end < reqs_.size() && to_simtime(reqs_[end].arrival) == t) ++end;
    sim.queue().at(
        t,
        [this, i, end] {
          if (end == i + 1) {
            arrive(i);
            return;
          }
          for (std::size_t j = i; j < end; ++j) join(j);
          kick_joined();
        },
        kArrivalPriority);
    i = end;
  }
}

void InferenceWorkload::report(Simulation& sim, Json& summary) {
  const Joules e = sim.devices_energy();
  double t = to_seconds(sim.now());
  if (!summary.contains("energy_j")) {
    summary["energy_j"] = e;
    summary["avg_power_w"] = t > 0 ? e / t : Watts{0};
  }
  SloTargets slo{cfg_.slo_ttft, cfg_.slo_tpot};
  Json j = inference_summary(reqs_, res_, e, LatencyCounts(itl_.begin(), itl_.end()), cfg_.slo ? &slo : nullptr);
  std::int64_t pre = 0, blocks = 0;
  TimeSplit split;  // summed over replicas and iterations (docs/software.md)
  for (const auto& r : replicas_) {
    pre += r->sched->preemptions();
    blocks = r->sched->total_blocks();
    split += r->graph->time_split();
  }
  j["software"] = cfg_.software.name.empty() ? "none" : cfg_.software.name;
  j["time_split"] = split.to_json();
  j["preemptions"] = pre;
  if (cfg_.sched.swap_preemption) j["swap"] = swap_summary();
  if (!cfg_.use_trace) j["seed"] = seed_;
  j["iterations"] = iterations_;
  j["replicas"] = cfg_.replicas;
  if (cfg_.prefill_replicas > 0) {
    j["prefill_replicas"] = cfg_.prefill_replicas;
    j["kv_transfers"] = kv_transfers_;
    j["kv_transfer_bytes"] = kv_transfer_bytes_;
  }
  j["tp"] = cfg_.tp;
  j["pp"] = cfg_.pp;
  j["pipeline_engines"] = cfg_.engines;
  j["kv_blocks_per_engine"] = blocks;
  j["kv_block_tokens"] = cfg_.sched.block_size;
  if (cfg_.spec.on) j["speculative"] = speculative_summary_all();
  if (cfg_.sched.prefix_caching) j["prefix_cache"] = prefix_cache_summary(scheds_, cfg_.sched.prefix_block_tokens);
  if (cfg_.sched.offload.on()) j["prefix_cache"]["offload"] = offload_summary();
  summary["inference"] = j;
}

WorkProgress InferenceWorkload::progress(Simulation& sim) {
  (void)sim;
  return {static_cast<double>(settled_), static_cast<double>(reqs_.size()), "requests"};
}

void InferenceWorkload::write_files(Simulation& sim, const std::string& outdir) {
  (void)sim;
  write_file_atomic(outdir + "/requests.csv", requests_csv(reqs_, res_));
}

void InferenceWorkload::print(Simulation& sim, std::ostream& os) {
  Json j;
  report(sim, j);
  const Json& i = j["inference"];
  os << std::fixed << std::setprecision(3) << "inference: " << i["completed"].get<std::int64_t>() << "/"
     << i["requests"].get<std::int64_t>() << " completed, " << i["rejected"].get<std::int64_t>() << " rejected, "
     << cfg_.replicas << " replica(s) of tp " << cfg_.tp << " x pp " << cfg_.pp << "\n"
     << "  TTFT p50 " << i["ttft_s"]["p50"].get<double>() * 1e3 << " ms, p99 " << i["ttft_s"]["p99"].get<double>() * 1e3
     << " ms; TPOT mean " << i["tpot_s"]["mean"].get<double>() * 1e3 << " ms; throughput "
     << std::setprecision(1) << i["output_tokens_per_s"].get<double>() << " output tok/s, "
     << i["total_tokens_per_s"].get<double>() << " total tok/s\n";
}

std::int64_t InferenceWorkload::place(Replica& rep) {
  const ModelSpec& m = cfg_.model;
  const double kvb = dtype_bytes(cfg_.kv_dtype);
  std::int64_t blocks = -1;
  for (std::int64_t s = 0; s < cfg_.pp; ++s) {
    const std::int64_t L = stage_layers(cfg_, s);
    const ChipSpec& chip0 = sim_->device(rep.stages[s].front()).chip();
    // Weight shard, activation budget and what of the weights a staging tier keeps
    // resident (dataflow.h): one computation shared with the Lowering that charges it.
    const WeightResidency wr = weight_residency(cfg_, chip0, s);
    const double weights = wr.weights, act = wr.activations;
    const double kv_tok = static_cast<double>(L) * cfg_.kv_elements_per_layer_per_rank() * kvb + spec_kv_tok();
    for (int d : rep.stages[s]) {
      Device& dev = sim_->device(d);
      dev.placement_tier("weights").allocate("weights", weights);
      if (wr.gathered_buffer > 0) dev.placement_tier("weights").allocate("gathered weights", wr.gathered_buffer);
      const std::string& staging = dev.chip().placement.staging;
      if (!staging.empty() && staging != dev.chip().placement.weights) {
        // Weights kept in a big slow tier stream through a staging tier (SN40L: DDR ->
        // HBM, Prabhakar et al. IEEE Micro 2024): double-buffer one layer's shard there,
        // and keep resident what fits; the rest streams from DDR at every use.
        dev.tier(staging).allocate("staging", wr.staging_buffer);
        if (wr.resident > 0) dev.tier(staging).allocate("weights (resident)", wr.resident);
      }
      dev.placement_tier("activations").allocate("activations", act);
      MemoryTier& kv = dev.placement_tier("kv_cache");
      // The stack's rule (SoftwareStack::kv_budget): a share of the tier, or of what is left.
      double budget = cfg_.software.kv_pool_bytes(kv.spec().capacity, kv.used(), cfg_.sched.memory_utilization);
      std::int64_t b = budget > 0 ? static_cast<std::int64_t>(budget / (kv_tok * cfg_.sched.block_size)) : 0;
      if (b < 1) {
        const std::string gathered =
            wr.gathered_buffer > 0 ? " + gathered layers " + format_quantity(wr.gathered_buffer, Dim::Size) : "";
        throw InfeasibleError(
            dev.label() + ": " + m.name + " weights " + format_quantity(weights, Dim::Size) + gathered +
            " + activations " + format_quantity(act, Dim::Size) + " leave no room for a KV block in " + kv.spec().tier +
            " (" + format_quantity(kv.spec().capacity, Dim::Size) + " x " +
            std::to_string(cfg_.sched.memory_utilization) + " usable); use more tp/pp or a smaller dtype");
      }
      if (blocks < 0 || b < blocks) kv_fit_ = {dev.label(), budget, kv_tok};
      blocks = blocks < 0 ? b : std::min(blocks, b);
    }
  }
  for (std::int64_t s = 0; s < cfg_.pp; ++s) {
    const double kv_tok =
        static_cast<double>(stage_layers(cfg_, s)) * cfg_.kv_elements_per_layer_per_rank() * kvb + spec_kv_tok();
    for (int d : rep.stages[s]) {
      sim_->device(d).placement_tier("kv_cache").allocate("kv_cache", static_cast<double>(blocks) * cfg_.sched.block_size * kv_tok);
    }
  }
  return blocks;
}

std::size_t InferenceWorkload::route(std::size_t lo, std::size_t hi, std::size_t& rr, const Request* q) {
  return route_request(router_, scheds_, lo, hi, rr, q ? keys_.of(*q) : nullptr, q ? q->key_count : 0, &health_);
}

void InferenceWorkload::arrive(std::size_t i) {
  const std::size_t r = enqueue_arrival(i);
  if (r != kNoReplica) kick(r);
}

void InferenceWorkload::join(std::size_t i) {
  const std::size_t r = enqueue_arrival(i);
  if (r == kNoReplica) return;
  if (joined_.size() < replicas_.size()) joined_.resize(replicas_.size(), 0);
  joined_[r] = 1;
}

void InferenceWorkload::kick_joined() {
  for (std::size_t r = 0; r < joined_.size(); ++r)
    if (joined_[r]) {
      joined_[r] = 0;
      kick(r);
    }
}

std::size_t InferenceWorkload::enqueue_arrival(std::size_t i) {
  const Request& q = reqs_[i];
  const std::size_t n = replicas_.size(), split = prefill_split();
  if (!health_.any_up(0, split > 0 ? split : n)) {  // every replica down: wait for one back
    parked_.push_back(i);
    return kNoReplica;
  }
  routed_[i] = to_seconds(sim_->now());
  std::size_t pick = route(0, split > 0 ? split : n, next_rr_, &q);
  Replica& rep = *replicas_[pick];
  // Disaggregated: the decode pool must be able to hold it too (same chips and shapes).
  bool fits = rep.sched->can_ever_fit(q.prompt_tokens, q.output_tokens) &&
              (split == 0 || replicas_[split]->sched->can_ever_fit(q.prompt_tokens, q.output_tokens));
  if (!fits) {
    res_[i].rejected = true;  // counted, reported in requests.csv; never silently dropped
    slo_watch_.rejected(i);
    ++settled_;
    return kNoReplica;
  }
  res_[i].replica = static_cast<std::int64_t>(pick) / cfg_.engines;
  rep.sched->enqueue(i, q.prompt_tokens, q.output_tokens, keys_.of(q), q.key_count);
  return pick;
}

void InferenceWorkload::kick(std::size_t r) {
  Replica& rep = *replicas_[r];
  if (rep.graph->running() || (rep.draft_graph && rep.draft_graph->running()) || rep.swapping || !health_.up(r)) return;
  const bool run = rep.sched->plan(rep.shape);
  for (std::size_t q : rep.sched->preempted()) ++res_[q].preemptions;
  for (const auto& [q, cached] : rep.sched->cache_hits()) res_[q].cached_tokens = cached;
  if (cfg_.sched.offload.on()) run_offload_copies(r);
  const SimTime start = cfg_.sched.swap_preemption ? run_swaps(r) : sim_->now();
  if (!run) return;
  rep.begin = sim_->now();
  for (std::size_t q : rep.sched->admitted()) {
    if (admit_t_[q] >= 0) continue;
    admit_t_[q] = sim_->now();
    res_[q].admitted = to_seconds(admit_t_[q]);
  }
  if (start > sim_->now()) {  // the forward runs once the swap copies are done
    rep.swapping = true;
    sim_->queue().at(start, [this, r, epoch = rep.epoch] {
      if (replicas_[r]->epoch != epoch) return;  // drained by a fault meanwhile
      replicas_[r]->swapping = false;
      launch(r);
    });
    return;
  }
  launch(r);
}

void InferenceWorkload::launch(std::size_t r) {
  Replica& rep = *replicas_[r];
  if (rep.draft_graph) {
    rep.draft_steps = draft_shapes(rep.shape, cfg_.spec.k);
    rep.draft_next = 0;
    run_draft(r);
    return;
  }
  run_target(r);
}

void InferenceWorkload::finish_iteration(std::size_t r) {
  Replica& rep = *replicas_[r];
  ++iterations_;
  ++rep.iterations;
  std::vector<std::size_t> first, done, moved;
  const bool prefill_pool = r < prefill_split();
  rep.sched->complete(first, done, prefill_pool ? &moved : nullptr);
  const SimTime now = sim_->now();
  // Inter-token latency: the gap since the request's previous token, whichever replica
  // produced it (a disaggregated hand-off or a preemption shows up as one long gap).
  // Tokens of one speculative step arrive together: one gap, then zero gaps.
  // Most of a batch had its previous token at the same instant (this replica's previous
  // iteration): one histogram look-up per distinct gap, not per token.
  SimTime gap = -1;
  std::int64_t* gap_count = nullptr;
  for (std::size_t e = 0; e < rep.sched->emitted().size(); ++e) {
    const std::size_t q = rep.sched->emitted()[e];
    if (last_token_[q] >= 0) {
      if (!gap_count || now - last_token_[q] != gap) {
        gap = now - last_token_[q];
        gap_count = &itl_[gap];  // stays valid: unordered_map never moves its elements
      }
      ++*gap_count;
    }
    if (rep.sched->emitted_tokens()[e] > 1) itl_[0] += rep.sched->emitted_tokens()[e] - 1;
    last_token_[q] = now;
  }
  for (std::size_t q : first) {
    res_[q].first_token = to_seconds(now);
    slo_watch_.first_token(q, res_[q].first_token - reqs_[q].arrival);
  }
  for (std::size_t q : done) {
    res_[q].finish = to_seconds(now);
    res_[q].done = true;
    const std::int64_t out = reqs_[q].output_tokens;  // TPOT as metrics.cpp defines it
    if (out > 1) slo_watch_.done(q, (res_[q].finish - res_[q].first_token) / static_cast<double>(out - 1));
    ++settled_;
    if (sim_->recorder().on()) {
      SimTime arr = to_simtime(reqs_[q].arrival), ft = to_simtime(res_[q].first_token);
      std::uint64_t id = reqs_[q].id;
      sim_->recorder().async_span("queued", "request", id, arr, admit_t_[q]);
      sim_->recorder().async_span("prefill", "request", id, admit_t_[q], ft);
      sim_->recorder().async_span("decode", "request", id, ft, now);
    }
  }
  for (std::size_t q : moved) defer_handoff(prefill_done_, r, q);
  kick(r);
}

LLMSIM_REGISTER_WORKLOAD(InferenceWorkload, "inference");

}  // namespace llmsim
