// `kind: inference`: LLM serving on a cluster. Requests (trace or synthetic) arrive, a
// router hands each to a model replica (tp x pp devices), and each replica runs
// iteration-level continuous batching (scheduler.h). One iteration is an op graph
// (iteration_graph.h: per stage a compute op per TP device, the TP collectives, the sends
// to the next stage, an end node) built once per replica and re-armed per iteration; the
// executor issues its ready ops onto the devices' streams and the network. A
// disaggregated KV hand-off is a move on the sender's copy engine plus a network flow.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include "models/device.h"
#include "models/network.h"
#include "sim/engine/faults.h"
#include "sim/engine/simulation.h"
#include "sim/engine/workload.h"
#include "sim/output/atomic_file.h"
#include "sim/workloads/inference/config.h"
#include "sim/workloads/inference/iteration_graph.h"
#include "sim/workloads/inference/kv_fit.h"
#include "sim/workloads/inference/dataflow.h"
#include "sim/workloads/inference/lowering.h"
#include "sim/workloads/inference/metrics.h"
#include "sim/workloads/inference/router.h"
#include "sim/workloads/inference/replica_failover.h"
#include "sim/workloads/inference/scheduler.h"

namespace llmsim {
namespace {

// Arrivals run before the other events of their instant (default priority 0).
constexpr int kArrivalPriority = -1;
// Disaggregated hand-offs (prefill done; KV arrived at the decode replica) are gathered
// over an instant and applied after its other events, in request id order: routing and
// queue order must not depend on which same-time iteration or transfer ended first
// (--debug-tie-shuffle).
constexpr int kHandoffPriority = 1;

class Inference : public Workload, public FaultListener {
 public:
  void load(const Doc& doc, const Topology& topo, ChipCatalog& catalog) override {
    (void)catalog;
    cfg_ = parse_inference(doc, topo);
    if (cfg_.use_trace) reqs_ = read_trace(cfg_.trace, &keys_);
  }
  YAML::Node resolved() const override { return cfg_.resolved; }

  void start(Simulation& sim) override {
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
        rep->stages = proto.stages;
        health_.add(proto.stages);
        rep->sched = std::make_unique<ReplicaScheduler>(cfg_.sched, std::max<std::int64_t>(1, blocks / cfg_.engines));
        attach_speculation(*rep, idx);
        scheds_.push_back(rep->sched.get());
        replicas_.push_back(std::move(rep));
      }
    }
    for (int d = 0; d < sim.num_devices(); ++d)  // down from 0 s (a fault before start)
      if (!sim.device(d).up()) health_.device_down(d);
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
      sim.queue().at(t, [this, i, end] {
        for (std::size_t j = i; j < end; ++j) arrive(j);
      }, kArrivalPriority);
      i = end;
    }
  }

  void report(Simulation& sim, Json& summary) override {
    Joules e = 0;
    double t = to_seconds(sim.now());
    for (int d = 0; d < sim.num_devices(); ++d) e += sim.device(d).energy(t);
    if (!summary.contains("energy_j")) {
      summary["energy_j"] = e;
      summary["avg_power_w"] = t > 0 ? e / t : 0.0;
    }
    SloTargets slo{cfg_.slo_ttft, cfg_.slo_tpot};
    Json j = inference_summary(reqs_, res_, e, itl_, cfg_.slo ? &slo : nullptr);
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
    if (!cfg_.use_trace) j["seed"] = seed_;
    j["iterations"] = iterations_;
    j["replicas"] = cfg_.replicas;
    if (cfg_.prefill_replicas > 0) {
      j["prefill_replicas"] = cfg_.prefill_replicas;
      j["kv_transfers"] = kv_transfers_;
    }
    j["tp"] = cfg_.tp;
    j["pp"] = cfg_.pp;
    j["pipeline_engines"] = cfg_.engines;
    j["kv_blocks_per_engine"] = blocks;
    j["kv_block_tokens"] = cfg_.sched.block_size;
    if (cfg_.spec.on) j["speculative"] = speculative_summary_all();
    if (cfg_.sched.prefix_caching) j["prefix_cache"] = prefix_cache_summary(scheds_, cfg_.sched.prefix_block_tokens);
    summary["inference"] = j;
  }

  bool stop_requested(std::string& why) const override { return slo_watch_.unmeetable(why); }

  // Requests settled (completed or rejected) out of all: the progress line's count and ETA.
  WorkProgress progress(Simulation& sim) override {
    (void)sim;
    return {static_cast<double>(settled_), static_cast<double>(reqs_.size()), "requests"};
  }

  void write_files(Simulation& sim, const std::string& outdir) override {
    (void)sim;
    write_file_atomic(outdir + "/requests.csv", requests_csv(reqs_, res_));
  }

  void print(Simulation& sim, std::ostream& os) override {
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

 private:
  struct Replica {
    std::unique_ptr<ReplicaScheduler> sched;
    std::unique_ptr<IterationGraph> graph;  // one iteration's ops, re-run every iteration
    std::unique_ptr<IterationGraph> draft_graph;  // the draft model's forwards (speculative)
    std::vector<IterationShape> draft_steps;      // this iteration's draft forwards
    std::size_t draft_next = 0;                   // the next one to run
    std::vector<std::vector<int>> stages;  // [stage][tp rank] -> device
    IterationShape shape;
    SimTime begin = 0;
    std::int64_t iterations = 0;  // this engine's, for span names (a global count follows event order)
  };

  // Places weights, activations and the KV pool on every device of the replica; returns
  // the replica's KV blocks (the tightest device decides). InfeasibleError when not fitting.
  std::int64_t place(Replica& rep) {
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
      const double kv_tok = static_cast<double>(L) * m.kv_elements_per_layer(cfg_.tp) * kvb + spec_kv_tok();
      for (int d : rep.stages[s]) {
        Device& dev = sim_->device(d);
        dev.placement_tier("weights").allocate("weights", weights);
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
        double budget = kv.spec().capacity * cfg_.sched.memory_utilization - kv.used();
        std::int64_t b = budget > 0 ? static_cast<std::int64_t>(budget / (kv_tok * cfg_.sched.block_size)) : 0;
        if (b < 1) {
          throw InfeasibleError(dev.label() + ": " + m.name + " weights " + format_quantity(weights, Dim::Size) +
                                " + activations " + format_quantity(act, Dim::Size) + " leave no room for a KV block in " +
                                kv.spec().tier + " (" + format_quantity(kv.spec().capacity, Dim::Size) + " x " +
                                std::to_string(cfg_.sched.memory_utilization) + " usable); use more tp/pp or a smaller dtype");
        }
        if (blocks < 0 || b < blocks) kv_fit_ = {dev.label(), budget, kv_tok};
        blocks = blocks < 0 ? b : std::min(blocks, b);
      }
    }
    for (std::int64_t s = 0; s < cfg_.pp; ++s) {
      const double kv_tok = static_cast<double>(stage_layers(cfg_, s)) * m.kv_elements_per_layer(cfg_.tp) * kvb + spec_kv_tok();
      for (int d : rep.stages[s]) {
        sim_->device(d).placement_tier("kv_cache").allocate("kv_cache", static_cast<double>(blocks) * cfg_.sched.block_size * kv_tok);
      }
    }
    return blocks;
  }

  // Engines [0, split) form the prefill pool (0 = colocated serving).
  std::size_t prefill_split() const { return static_cast<std::size_t>(cfg_.prefill_replicas * cfg_.engines); }

  // Router over replicas [lo, hi) (router.h); `q` gives the prompt's prefix keys.
  std::size_t route(std::size_t lo, std::size_t hi, std::size_t& rr, const Request* q = nullptr) {
    const RouterPolicy p{cfg_.router, cfg_.router_load_cap, cfg_.sched.max_batched_tokens};
    return route_request(p, scheds_, lo, hi, rr, q ? keys_.of(*q) : nullptr, q ? q->key_count : 0);
  // Router over replicas [lo, hi): round-robin, or the least outstanding work (ties: lowest).
  // Replicas a device failure took down are skipped (the caller checks one is up).
  std::size_t route(std::size_t lo, std::size_t hi, std::size_t& rr) {
    if (cfg_.router == "round-robin") {
      std::size_t pick = lo + rr++ % (hi - lo);
      for (std::size_t k = 0; k < hi - lo && !health_.up(pick); ++k) pick = lo + rr++ % (hi - lo);
      return pick;
    }
    std::size_t pick = lo;
    std::int64_t best = -1;
    for (std::size_t r = lo; r < hi; ++r) {
      if (!health_.up(r)) continue;
      std::int64_t load = replicas_[r]->sched->outstanding_tokens();
      if (best < 0 || load < best) {
        best = load;
        pick = r;
      }
    }
    return pick;
  }

  void arrive(std::size_t i) {
    const Request& q = reqs_[i];
    const std::size_t n = replicas_.size(), split = prefill_split();
    if (!health_.any_up(0, split > 0 ? split : n)) {  // every replica down: wait for one back
      parked_.push_back(i);
      return;
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
      return;
    }
    res_[i].replica = static_cast<std::int64_t>(pick) / cfg_.engines;
    rep.sched->enqueue(i, q.prompt_tokens, q.output_tokens, keys_.of(q), q.key_count);
    kick(pick);
  }

  // Disaggregated serving: the prompt's KV moves from the prefill replica's devices to the
  // decode replica's (rank to rank, stage to stage, in the KV dtype), then decoding starts.
  // Each move reads the sender's KV tier on its copy engine (move_kv) while the sender's
  // next iteration, started in the same instant, streams that tier too.
  void hand_off(std::size_t from, std::size_t q) {
    const std::size_t split = prefill_split();
    std::size_t to = route(split, replicas_.size(), next_rr_decode_);
    const ModelSpec& m = cfg_.model;
    auto left = std::make_shared<int>(static_cast<int>(cfg_.tp * cfg_.pp));
    ++kv_transfers_;
    for (std::int64_t s = 0; s < cfg_.pp; ++s) {
      double kv_tok = static_cast<double>(stage_layers(cfg_, s)) * m.kv_elements_per_layer(cfg_.tp) * dtype_bytes(cfg_.kv_dtype) +
                    spec_kv_tok();
      for (std::int64_t t = 0; t < cfg_.tp; ++t) {
        move_kv(*sim_, replicas_[from]->stages[s][t], replicas_[to]->stages[s][t],
                kv_tok * static_cast<double>(reqs_[q].prompt_tokens), [this, left, to, q] {
                  if (--*left > 0) return;
                  defer_handoff(kv_arrived_, to, q);
                });
      }
    }
  }

  // Queues (replica, request) for this instant's hand-off pass (kHandoffPriority).
  void defer_handoff(std::vector<std::pair<std::size_t, std::size_t>>& list, std::size_t r, std::size_t q) {
    list.push_back({q, r});
    if (handoff_pass_armed_) return;
    handoff_pass_armed_ = true;
    sim_->queue().at(sim_->now(), [this] { run_handoffs(); }, kHandoffPriority);
  }

  // Requests whose prefill ended leave for the decode pool, then requests whose KV arrived
  // join their decode replica's queue, each in request id order; touched replicas are
  // kicked in index order.
  void run_handoffs() {
    handoff_pass_armed_ = false;
    auto leaving = std::move(prefill_done_);
    auto arrived = std::move(kv_arrived_);
    prefill_done_.clear();
    kv_arrived_.clear();
    std::sort(leaving.begin(), leaving.end());
    std::sort(arrived.begin(), arrived.end());
    for (const auto& [q, from] : leaving) hand_off(from, q);
    std::vector<std::size_t> touched;
    for (const auto& [q, to] : arrived) {
      replicas_[to]->sched->enqueue_decode(q, reqs_[q].prompt_tokens, reqs_[q].output_tokens, 1);
      touched.push_back(to);
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (std::size_t r : touched) kick(r);
  }

  // A device-down fault fails every engine holding the device: the requests it held are
  // routed again over the engines still up (none lost), each counting a retry and the
  // time its failed attempt took; the device coming back restores the engine.
  // The device pauses (its ops keep their remaining work) but its links stay up, so a TP
  // collective with it waits for it rather than partitioning the fabric.
  FaultOutcome fault(Simulation& sim, const Fault& f, bool begins) override {
    if (f.kind != "device-down" || f.device < 0) return FaultOutcome::Apply;
    const double now = to_seconds(sim.now());
    sim.device(f.device).set_up(!begins);
    if (!sim_) return FaultOutcome::Handled;  // at 0 s, before start(), which reads it
    if (!begins) {
      for (std::size_t r : health_.device_up(f.device)) kick(r);
      std::vector<std::size_t> parked;
      parked.swap(parked_);
      for (std::size_t q : parked) arrive(q);
      return FaultOutcome::Handled;
    }
    for (std::size_t r : health_.device_down(f.device)) {
      if (prefill_split() > 0)
        throw InfeasibleError(f.text() + ": failover of disaggregated prefill/decode pools is not modelled (docs/faults.md)");
      for (std::size_t q : replicas_[r]->sched->drain()) {
        ++res_[q].retries;
        res_[q].retry_lost_s += now - routed_[q];
        arrive(q);
      }
    }
    return FaultOutcome::Handled;
  }

  void kick(std::size_t r) {
    Replica& rep = *replicas_[r];
    if (rep.graph->running() || (rep.draft_graph && rep.draft_graph->running()) || !health_.up(r)) return;
    const bool run = rep.sched->plan(rep.shape);
    for (std::size_t q : rep.sched->preempted()) ++res_[q].preemptions;
    for (const auto& [q, cached] : rep.sched->cache_hits()) res_[q].cached_tokens = cached;
    if (!run) return;
    rep.begin = sim_->now();
    for (std::size_t q : rep.sched->admitted()) {
      if (admit_t_[q] >= 0) continue;
      admit_t_[q] = sim_->now();
      res_[q].admitted = to_seconds(admit_t_[q]);
    }
    if (rep.draft_graph) {
      rep.draft_steps = draft_shapes(rep.shape, cfg_.spec.k);
      rep.draft_next = 0;
      run_draft(r);
      return;
    }
    run_target(r);
  }

  // The target's forward: the iteration, or with speculation the verification of the proposals.
  void run_target(std::size_t r) {
    Replica& rep = *replicas_[r];
    static const std::string kLabel = "iteration";
    if (!sim_->recorder().on()) {
      rep.graph->run(rep.shape, kLabel);
      return;
    }
    std::string what = cfg_.spec.on && rep.shape.decode > 0 ? "verify k=" + std::to_string(cfg_.spec.k) + " " : "";
    rep.graph->run(rep.shape, what + "iter " + std::to_string(rep.iterations) + " (" +
                                  std::to_string(rep.shape.prefill.size()) + " prefill, " +
                                  std::to_string(rep.shape.decode) + " decode, " + std::to_string(rep.shape.tokens()) +
                                  " tok)");
  }

  // Speculative decoding hooks (speculative.h): the scheduler's acceptance draw, the draft
  // model's forwards before each verification, its KV per token and the summary block.
  void attach_speculation(Replica& rep, std::size_t idx) {
    if (!cfg_.spec.on) return;
    rep.sched->set_speculation(cfg_.spec.k, [this](std::size_t q, std::int64_t step) {
      return draw_accepted(cfg_.spec, seed_, reqs_[q].id, step);
    });
    if (!cfg_.spec.draft_model()) return;
    rep.draft_graph = std::make_unique<IterationGraph>(*sim_, draft_cfg_, *draft_lowering_, rep.stages,
                                                       [this, idx] { run_draft(idx); });
  }

  // Runs the replica's next draft forward, or the verification once all have run.
  void run_draft(std::size_t r) {
    Replica& rep = *replicas_[r];
    if (rep.draft_next >= rep.draft_steps.size()) {
      run_target(r);
      return;
    }
    const IterationShape& d = rep.draft_steps[rep.draft_next++];
    static const std::string kLabel = "draft";
    rep.draft_graph->run(d, !sim_->recorder().on() ? kLabel
                                                   : "draft " + std::to_string(rep.draft_next) + "/" +
                                                         std::to_string(rep.draft_steps.size()) + " (" +
                                                         std::to_string(d.decode) + " seq, " +
                                                         std::to_string(d.tokens()) + " tok)");
  }

  double spec_kv_tok() const {
    return speculative_kv_bytes_per_token(cfg_.spec, cfg_.tp, dtype_bytes(cfg_.kv_dtype));
  }

  Json speculative_summary_all() const {
    SpeculativeStats st;
    for (const auto& r : replicas_) st.add(r->sched->speculative_stats());
    return speculative_summary(cfg_.spec, st);
  }

  void finish_iteration(std::size_t r) {
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
    for (std::size_t e = 0; e < rep.sched->emitted().size(); ++e) {
      const std::size_t q = rep.sched->emitted()[e];
      if (last_token_[q] >= 0) ++itl_[now - last_token_[q]];
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

  InferenceConfig cfg_;
  std::vector<Request> reqs_;
  std::vector<RequestResult> res_;
  KvFit kv_fit_;  // the device whose free KV memory set the blocks
  std::vector<SimTime> admit_t_, last_token_;
  std::vector<double> routed_;        // when each request was last routed (s)
  ReplicaHealth health_;              // engines up / down (device-down faults)
  std::vector<std::size_t> parked_;   // arrived while every replica was down
  LatencyCounts itl_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<const ReplicaScheduler*> scheds_;  // replicas_[i]->sched, for the router
  PrefixKeys keys_;                              // prefix-block keys of reqs_ (may be empty)
  std::unique_ptr<Lowering> lowering_;
  InferenceConfig draft_cfg_;                  // speculative decoding's draft model setup
  std::unique_ptr<Lowering> draft_lowering_;
  Simulation* sim_ = nullptr;
  std::size_t next_rr_ = 0, next_rr_decode_ = 0;
  std::int64_t kv_transfers_ = 0;
  // This instant's hand-offs as (request, replica): prefill finished / KV arrived.
  std::vector<std::pair<std::size_t, std::size_t>> prefill_done_, kv_arrived_;
  bool handoff_pass_armed_ = false;
  std::uint64_t seed_ = 1;
  std::int64_t iterations_ = 0;
  std::size_t settled_ = 0;  // completed + rejected
  SloWatch slo_watch_;       // slo.stop_below_attainment
};

}  // namespace

LLMSIM_REGISTER_WORKLOAD(Inference, "inference");

}  // namespace llmsim
