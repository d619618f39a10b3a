// The `kind: inference` workload (docs/inference.md): LLM serving on a cluster. Requests
// (trace or synthetic) arrive, a router hands each to a model replica (tp x pp devices),
// and each replica runs iteration-level continuous batching (scheduler.h). One iteration
// is an op graph (iteration_graph.h: per stage a compute op per TP device, the TP
// collectives, the sends to the next stage, an end node) built once per replica and
// re-armed per iteration; the executor issues its ready ops onto the devices' streams and
// the network. The class is split by concern: inference.cpp (lifecycle, placement,
// routing, the iteration loop), inference_handoff.cpp (disaggregated KV hand-off, device
// failover), inference_speculative.cpp (draft and verification forwards),
// inference_offload.cpp (KV offload tiers and swap preemption: copies over the device's links).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/engine/faults.h"
#include "sim/engine/workload.h"
#include "sim/workloads/inference/config.h"
#include "sim/workloads/inference/iteration_graph.h"
#include "sim/workloads/inference/kv_fit.h"
#include "sim/workloads/inference/lowering.h"
#include "sim/workloads/inference/metrics.h"
#include "sim/workloads/inference/replica_failover.h"
#include "sim/workloads/inference/router.h"
#include "sim/workloads/inference/scheduler.h"

namespace llmsim {

// Arrivals run before the other events of their instant (default priority 0).
constexpr int kArrivalPriority = -1;
// Disaggregated hand-offs (prefill done; KV arrived at the decode replica) are gathered
// over an instant and applied after its other events, in request id order: routing and
// queue order must not depend on which same-time iteration or transfer ended first
// (--debug-tie-shuffle).
constexpr int kHandoffPriority = 1;
// An offload fetch that lands wakes its request after the instant's other events (an
// iteration ending then has planned without it), so the order does not depend on ties.
constexpr int kOffloadWakePriority = 2;

class InferenceWorkload : public Workload, public FaultListener {
 public:
  void load(const Doc& doc, const Topology& topo, ChipCatalog& catalog) override;
  YAML::Node resolved() const override { return cfg_.resolved; }
  // The stack named (or the chip's default; `none`: nullptr): its collective library.
  const SoftwareStack* software() const override { return cfg_.software.name.empty() ? nullptr : &cfg_.software; }
  void start(Simulation& sim) override;
  void report(Simulation& sim, Json& summary) override;

  bool stop_requested(std::string& why) const override { return slo_watch_.unmeetable(why); }

  // Requests settled (completed or rejected) out of all: the progress line's count and ETA.
  WorkProgress progress(Simulation& sim) override;
  void write_files(Simulation& sim, const std::string& outdir) override;
  void print(Simulation& sim, std::ostream& os) override;

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
    // KV copies off the device (inference_offload.cpp): when each link channel (the PCIe
    // port that swaps and host tiers share, NVLink-C2C, a remote store's NIC, ...) and the
    // host's own tier-to-tier path are next free; the entries stored per tier accounted.
    std::vector<SimTime> link_free;
    SimTime host_free = 0;
    std::vector<std::int64_t> stored_seen;
    bool swapping = false;    // the planned iteration waits for its swap copies
    std::uint64_t epoch = 0;  // bumped when a fault drains the replica: a pending launch is void
  };
  // KV offload totals per tier over all replicas (summary.json inference.prefix_cache.offload).
  struct OffloadTotals {
    std::int64_t fetches = 0, entries_fetched = 0;
    double bytes_fetched = 0, bytes_stored = 0, fetch_s = 0, store_s = 0;
  };

  // Places weights, activations and the KV pool on every device of the replica; returns
  // the replica's KV blocks (the tightest device decides). InfeasibleError when not fitting.
  std::int64_t place(Replica& rep);

  // Engines [0, split) form the prefill pool (0 = colocated serving).
  std::size_t prefill_split() const { return static_cast<std::size_t>(cfg_.prefill_replicas * cfg_.engines); }

  // Router over replicas [lo, hi) (router.h); `q` gives the prompt's prefix keys.
  std::size_t route(std::size_t lo, std::size_t hi, std::size_t& rr, const Request* q = nullptr);
  // Request i arrives: routed and queued (or parked, or rejected), then its replica kicked.
  void arrive(std::size_t i);
  // Requests arriving in one instant (a batch submitted at once, the parked requests when
  // a device comes back): each joins its replica's queue first, then every replica joined
  // is kicked once, in index order, so its next iteration sees all of them (an engine
  // schedules what has arrived when it steps; kicking per request would start a step with
  // the first request alone).
  void join(std::size_t i);
  void kick_joined();
  static constexpr std::size_t kNoReplica = static_cast<std::size_t>(-1);
  std::size_t enqueue_arrival(std::size_t i);  // the replica it joined, or kNoReplica
  std::vector<char> joined_;                   // per replica: joined since the last kick_joined

  // Disaggregated serving: the prompt's KV moves from the prefill replica's devices to the
  // decode replica's (rank to rank, stage to stage, in the KV dtype), then decoding starts.
  // Each move reads the sender's KV tier on its copy engine (move_kv) while the sender's
  // next iteration, started in the same instant, streams that tier too.
  void hand_off(std::size_t from, std::size_t q);

  // Queues (replica, request) for this instant's hand-off pass (kHandoffPriority).
  void defer_handoff(std::vector<std::pair<std::size_t, std::size_t>>& list, std::size_t r, std::size_t q);

  // Requests whose prefill ended leave for the decode pool, then requests whose KV arrived
  // join their decode replica's queue, each in request id order; touched replicas are
  // kicked in index order.
  void run_handoffs();

  // A device-down fault fails every engine holding the device: the requests it held are
  // routed again over the engines still up (none lost), each counting a retry and the
  // time its failed attempt took; the device coming back restores the engine.
  // The device pauses (its ops keep their remaining work) but its links stay up, so a TP
  // collective with it waits for it rather than partitioning the fabric.
  // Disaggregated pools fail over within the pool: a failed prefill engine's requests
  // (queued, running, or with their KV still moving out) and a failed decode engine's
  // (queued, running, or with their KV moving in) start over on the engines still up.
  FaultOutcome fault(Simulation& sim, const Fault& f, bool begins) override;
  // Request q's attempt failed with its engine: counted, then routed again from the start.
  void retry(std::size_t q);
  // Disaggregated: InfeasibleError (exit 3) naming the pool when one has no engine up.
  void check_pools_up(const std::string& why) const;
  void kick(std::size_t r);

  // The target's forward: the iteration, or with speculation the verification of the proposals.
  void run_target(std::size_t r);

  // Speculative decoding hooks (speculative.h): the scheduler's acceptance draw, the draft
  // model's forwards before each verification, its KV per token and the summary block.
  void attach_speculation(Replica& rep, std::size_t idx);

  // Runs the replica's next draft forward, or the verification once all have run.
  void run_draft(std::size_t r);
  double spec_kv_tok() const;
  Json speculative_summary_all() const;
  void finish_iteration(std::size_t r);

  // KV offload tiers (kv_offload.h): sizes each tier in prefix-cache entries for the
  // replica's scheduler (after place(), which a chip tier's free bytes depend on).
  void attach_offload(Replica& rep);
  // After plan(): starts the plan's fetches (each wakes its request when its bytes are
  // in) and records the evictions into the tiers, on the replica's copy tracks.
  void run_offload_copies(std::size_t r);
  Json offload_summary() const;
  // A copy of `seconds` on link channel `c` of replica `rep` from `after` on: its end.
  SimTime occupy_link(Replica& rep, int c, SimTime after, Seconds seconds);
  // One layer's KV of `tokens` tokens on one device (a paged block: the granule of KV copies).
  Bytes kv_layer_block(std::int64_t tokens) const;
  // Swap preemption (scheduler.h): sizes the host swap space in blocks; after plan(),
  // books the plan's swap copies on the PCIe channel and returns when they end (the
  // iteration starts then; now when nothing was swapped).
  void attach_swap(Replica& rep);
  SimTime run_swaps(std::size_t r);
  Json swap_summary() const;
  // Starts the planned iteration (the draft forwards first with a draft model).
  void launch(std::size_t r);

  InferenceConfig cfg_;
  std::vector<Request> reqs_;
  std::vector<RequestResult> res_;
  KvFit kv_fit_;  // the device whose free KV memory set the blocks
  std::vector<SimTime> admit_t_, last_token_;
  std::vector<double> routed_;        // when each request was last routed (s)
  ReplicaHealth health_;              // engines up / down (device-down faults)
  std::vector<std::size_t> parked_;   // arrived while every replica was down
  // Inter-token gaps counted per exact gap: a hash map while running (one count per token;
  // the ordered map's tree walk cost more), ordered (LatencyCounts) for the summary.
  std::unordered_map<SimTime, std::int64_t> itl_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<const ReplicaScheduler*> scheds_;  // replicas_[i]->sched, for the router
  PrefixKeys keys_;                              // prefix-block keys of reqs_ (may be empty)
  std::unique_ptr<Lowering> lowering_;
  InferenceConfig draft_cfg_;                  // speculative decoding's draft model setup
  std::unique_ptr<Lowering> draft_lowering_;
  Simulation* sim_ = nullptr;
  std::size_t next_rr_ = 0, next_rr_decode_ = 0;
  std::int64_t kv_transfers_ = 0;
  double kv_transfer_bytes_ = 0;  // moved prefill -> decode, over all devices
  // This instant's hand-offs as (request, replica): prefill finished / KV arrived.
  std::vector<std::pair<std::size_t, std::size_t>> prefill_done_, kv_arrived_;
  // Requests whose KV is moving: request -> (prefill engine, decode engine).
  std::map<std::size_t, std::pair<std::size_t, std::size_t>> handoffs_;
  bool handoff_pass_armed_ = false;
  std::uint64_t seed_ = 1;
  std::int64_t iterations_ = 0;
  std::size_t settled_ = 0;  // completed + rejected
  SloWatch slo_watch_;       // slo.stop_below_attainment
  RouterPolicy router_;      // from cfg_ at load (route() runs per request and hand-off)
  double offload_entry_device_ = 0;  // bytes of one cache entry on the device holding most
  double offload_entry_replica_ = 0; // bytes of one cache entry over all the replica's devices
  std::vector<OffloadTotals> offload_totals_;
  std::vector<int> offload_channel_;  // link channel of each offload tier (0 = PCIe)
  int link_channels_ = 1;
  std::vector<std::shared_ptr<OffloadStore::Tier>> shared_tiers_;  // per tier; null = private
  double swap_block_device_ = 0;                                   // bytes of one KV block on the device holding most
  double swap_s_ = 0;  // swap copy time, both ways over all replicas (per replica sums)
};

}  // namespace llmsim
