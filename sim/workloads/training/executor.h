// Runs training steps on the op graph (sim/engine/op_graph.h). Per step and pipeline
// stage, the schedule's forward / backward passes (schedule.h) become a chain of nodes;
// a pass node runs the chunk's compute on every TP rank's `compute` stream, then its TP
// collectives on the TP group (with the stack's TP overlap, each beside the GEMM chunks it
// is decomposed with); activations and gradients cross stages as network
// transfers between the ranks of adjacent stages. After a stage's last backward its
// gradients are reduced over the data-parallel groups (overlapping the other stages' work),
// then Adam runs, and a barrier ends the step. With fold_data_parallel only replica 0
// computes; every DP collective still runs on its full group (docs/training.md "Folding").
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "sim/engine/op_graph.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/lowering.h"
#include "sim/workloads/training/schedule.h"

namespace llmsim {

class Simulation;

// Seconds one device of a stage (replica 0, TP rank 0) spent in each state during one step.
struct StageStepTimes {
  double compute = 0;      // forward / backward kernels
  double tp_comm = 0;      // TP collectives and ZeRO-3 gathers inside the passes
  double dp_comm = 0;      // gradient reduction after the last backward, parameter gathers
  double optimizer = 0;
  double last_pass_end = 0;  // absolute time of the stage's last backward end
};

struct StepRecord {
  double start = 0, end = 0;
  double checkpoint = 0;  // seconds writing a checkpoint at the end of this step (in end - start)
  std::vector<StageStepTimes> stages;
};

// Gradient buckets of one stage in one step: each is reduced over DP as soon as every
// simulated replica's last backward has produced it.
struct BucketState {
  std::vector<std::size_t> join;  // per bucket: replicas that have not produced it yet
  // Buckets not reduced yet: the last backward's, plus (ZeRO-3) earlier backwards' shards
  // in flight, so the tail waits for every reduce-scatter of the step.
  std::size_t pending = 0;
  std::function<void()> waiter;   // the stage's tail, once it waits for them
};

// The EP all-to-all of one pass of one EP group, unfolded: it starts when all ep member
// replicas have reached it, and each continues when it ends.
struct EpJoin {
  std::vector<std::function<void()>> arrived;
};

// ZeRO-3 parameter gather of one pass, layer by layer as FSDP and XLA run it: its first
// layer's share, then the rest while the pass computes. The pass starts once the first
// share is in and ends no earlier than the rest; the next pass's gather follows this one.
struct GatherState {
  bool started = false, first_done = false, done = false;
  bool chain_next = false;             // start the next pass's gather when this one is done
  std::function<void()> first_waiter;  // the pass, waiting to start
  std::function<void()> waiter;        // the pass's end, waiting for the rest
};

class TrainingExecutor {
 public:
  TrainingExecutor(Simulation& sim, const TrainingConfig& cfg, const ChipSpec& chip);
  // `checkpoint:` (docs/faults.md "Training"): the step whose end crosses a multiple of
  // `interval_s` then writes for `write_s` before the next step starts. Before start().
  void set_checkpoint(Seconds interval_s, Seconds write_s);
  void start();
  const std::vector<StepRecord>& steps() const { return steps_; }
  // When each checkpoint write finished (s): the states a failure restarts from.
  const std::vector<double>& checkpoints() const { return checkpoints_; }
  std::size_t nodes() const { return graph_.size(); }
  std::size_t nodes_done() const { return graph_.finished_count(); }
  std::vector<std::string> waiting() const;
  // Packing statistics of the sequences drawn (nullptr without `data:`).
  const DataStats* data_stats() const { return stream_ ? &stream_->stats() : nullptr; }

 private:
  using Done = OpGraph::Done;
  int build_step(std::int64_t step, int barrier);
  int add_pass(std::int64_t step, std::int64_t r, std::int64_t s, const PipeItem& it, std::int64_t k, std::vector<int> deps);
  int add_transfer(std::int64_t r, std::int64_t from_s, std::int64_t to_s, Bytes bytes, int dep, const std::string& what);
  int add_stage_tail(std::int64_t step, std::int64_t s, const std::vector<int>& last_passes);
  void run_pass(std::int64_t step, std::int64_t r, std::int64_t s, const PipeItem& it, std::int64_t k, Done done);
  // ZeRO-3: the all-gather of the parameters pass k of stage s needs (started once).
  void start_gather(std::int64_t step, std::int64_t s, std::int64_t k);
  Done after_gather(std::int64_t step, std::int64_t s, std::int64_t r, std::int64_t k, Done done);
  // steps[i..] on every group in turn; a step with `beside` compute (TP overlap) runs it on
  // the groups' devices meanwhile, adding the seconds it took to *beside.
  void run_comm(const std::vector<std::vector<int>>& groups, const std::vector<CommStep>& steps, std::size_t i,
                std::function<void()> then, std::shared_ptr<double> beside = nullptr);
  // The pass's collectives in turn: TP (on each CP rank's TP group), the CP ring (on each
  // TP rank's CP group), the EP all-to-all (on each TP and CP rank's EP group).
  void run_pass_comm(std::int64_t step, std::int64_t r, std::int64_t s, std::int64_t k,
                     std::shared_ptr<const PassCost> pc, std::shared_ptr<double> beside, std::function<void()> then);
  // The EP all-to-all of pass k: folded, replica 0's stands for every group's; unfolded,
  // the ep replicas of an EP group meet and run it once (EpJoin).
  void run_ep_comm(std::int64_t step, std::int64_t r, std::int64_t s, std::int64_t k,
                   std::shared_ptr<const PassCost> pc, std::function<void()> then);
  // A data-parallel collective of `share` of stage s's parameters (1 = all of them, 2
  // bytes each): the dense part over each dp x cp group, the experts' over each expert-dp group.
  void dp_collective(std::int64_t s, CollectiveKind kind, double share, std::function<void()> then);
  // All-reduce of stage s's replicated KV-head gradients over each group of TP ranks that
  // share a KV head (kv_replicas.h), on every simulated replica; `then` at once without.
  void kv_replica_reduce(std::int64_t s, std::function<void()> then);
  // Draws the step's global batch from the sequence stream and prices each micro-batch's
  // document-masked attention (step_data.cpp).
  void draw_step_data(std::int64_t step);
  std::shared_ptr<const PassCost> pass_cost(std::int64_t step, std::int64_t r, std::int64_t vs, const PipeItem& it) const;
  void run_pieces(const std::vector<int>& devs, const OpCost& piece, const std::string& label,
                  std::function<void(std::int64_t)> ready, std::function<void()> then);
  // Bucket i of model chunk `chunk` of stage s is produced on one more replica.
  void bucket_ready(std::int64_t step, std::int64_t s, std::int64_t chunk, std::int64_t i);
  void bucket_reduced(std::int64_t step, std::int64_t s);
  // Reducing every micro-batch (executor_grads.cpp): one bucket of a backward that is not its chunk's last
  // is reduce-scattered at once; the stage's tail waits for it.
  void reduce_shard(std::int64_t step, std::int64_t s, std::int64_t chunk);
  // Share of the stage's parameters one gradient bucket of model chunk `chunk` holds.
  double reduced_share(std::int64_t s, std::int64_t chunk) const;
  // Gradient buckets per model chunk (buckets_), from the largest chunk's parameters.
  void set_buckets();
  // Share of stage s's layers (and so, closely, of its parameters) held by its model chunk `chunk`.
  double chunk_share(std::int64_t s, std::int64_t chunk) const;
  bool reduce_every_micro_batch() const { return cfg_.par.gradient_reduction == "every-micro-batch"; }
  void submit_all(const std::vector<int>& devices, const OpCost& cost, const std::string& label, std::function<void()> then);
  std::vector<int> stage_devices(std::int64_t r, std::int64_t s) const;
  double now() const;
  // The end of step `step`: a checkpoint write when its end crosses an interval, then done.
  void end_step(std::int64_t step, Done done);

  Simulation& sim_;
  const TrainingConfig& cfg_;
  RankMap map_;
  const MemoryTierSpec* pass_tier_;  // where passes stream their bytes (as_cost), nullptr: none
  TrainingLowering lowering_;
  std::vector<ChunkCost> chunks_;   // per virtual stage
  std::vector<OpCost> optimizer_;   // per stage
  std::vector<double> stage_params_;
  std::vector<double> stage_expert_params_;
  std::unique_ptr<SequenceStream> stream_;
  // [step][replica slot x micro-batches + micro-batch]: one layer's attention cost of that
  // micro-batch's documents less that of full-length sequences (empty: no document masking).
  std::vector<std::vector<AttentionCost>> attention_delta_;
  AttentionCost full_attention_;  // one layer, micro_batch full-length sequences
  std::vector<std::int64_t> replicas_;  // simulated data-parallel replicas
  std::vector<std::vector<PipeItem>> orders_;  // per stage: its passes in schedule order
  std::vector<std::vector<std::int64_t>> last_backward_;  // [stage][chunk]: micro-batch of its last backward
  std::int64_t buckets_ = 1;            // gradient buckets per model chunk
  std::vector<std::vector<BucketState>> bucket_state_;  // [step][stage]
  std::vector<std::vector<std::vector<GatherState>>> gathers_;  // [step][stage][pass]
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>, EpJoin>
      ep_joins_;  // (step, stage, pass, EP group)
  OpGraph graph_;
  std::vector<std::string> node_what_;
  std::vector<StepRecord> steps_;
  double ck_interval_s_ = 0, ck_write_s_ = 0;  // 0: no checkpoint writes
  std::vector<double> checkpoints_;
};

}  // namespace llmsim
