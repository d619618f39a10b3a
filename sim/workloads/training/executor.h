// Runs training steps on the op graph (sim/engine/op_graph.h). Per step and pipeline
// stage, the schedule's forward / backward passes (schedule.h) become a chain of nodes;
// a pass node runs the chunk's compute on every TP rank's `compute` stream, then its TP
// collectives on the TP group; activations and gradients cross stages as network
// transfers between the ranks of adjacent stages. After a stage's last backward its
// gradients are reduced over the data-parallel groups (overlapping the other stages' work),
// then Adam runs, and a barrier ends the step. With fold_data_parallel only replica 0
// computes; every DP collective still runs on its full group (docs/training.md "Folding").
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
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
  std::vector<StageStepTimes> stages;
};

// Gradient buckets of one stage in one step: each is reduced over DP as soon as every
// simulated replica's last backward has produced it.
struct BucketState {
  std::vector<std::size_t> join;  // per bucket: replicas that have not produced it yet
  std::size_t pending = 0;        // buckets not reduced yet
  std::function<void()> waiter;   // the stage's tail, once it waits for them
};

// ZeRO-3 parameter gather of one pass: started one pass ahead (prefetch), waited for by it.
struct GatherState {
  bool started = false, done = false;
  std::function<void()> waiter;
};

class TrainingExecutor {
 public:
  TrainingExecutor(Simulation& sim, const TrainingConfig& cfg, const ChipSpec& chip);
  void start();
  const std::vector<StepRecord>& steps() const { return steps_; }
  std::size_t nodes() const { return graph_.size(); }
  std::size_t nodes_done() const { return graph_.finished_count(); }
  std::vector<std::string> waiting() const;

 private:
  using Done = OpGraph::Done;
  int build_step(std::int64_t step, int barrier);
  int add_pass(std::int64_t step, std::int64_t r, std::int64_t s, const PipeItem& it, std::int64_t k, std::vector<int> deps);
  int add_transfer(std::int64_t r, std::int64_t from_s, std::int64_t to_s, Bytes bytes, int dep, const std::string& what);
  int add_stage_tail(std::int64_t step, std::int64_t s, const std::vector<int>& last_passes);
  void run_pass(std::int64_t step, std::int64_t r, std::int64_t s, const PipeItem& it, std::int64_t k, Done done);
  // ZeRO-3: the all-gather of the parameters pass k of stage s needs (started once).
  void start_gather(std::int64_t step, std::int64_t s, std::int64_t k);
  void run_comm(const std::vector<int>& group, const std::vector<CommStep>& steps, std::size_t i, std::function<void()> then);
  void dp_collective(std::int64_t s, CollectiveKind kind, Bytes bytes, std::function<void()> then);
  void run_pieces(std::int64_t step, std::int64_t s, const std::vector<int>& devs, const OpCost& piece,
                  const std::string& label, std::function<void()> then);
  void bucket_ready(std::int64_t step, std::int64_t s, std::int64_t i);
  void submit_all(const std::vector<int>& devices, const OpCost& cost, const std::string& label, std::function<void()> then);
  std::vector<int> stage_devices(std::int64_t r, std::int64_t s) const;
  double now() const;

  Simulation& sim_;
  const TrainingConfig& cfg_;
  RankMap map_;
  TrainingLowering lowering_;
  std::vector<ChunkCost> chunks_;   // per virtual stage
  std::vector<OpCost> optimizer_;   // per stage
  std::vector<double> stage_params_;
  std::vector<std::int64_t> replicas_;  // simulated data-parallel replicas
  std::vector<PipeItem> last_item_;     // per stage: its last pass of a step (a backward)
  std::int64_t buckets_ = 1;            // gradient buckets per stage
  std::vector<std::vector<BucketState>> bucket_state_;  // [step][stage]
  std::vector<std::vector<std::vector<GatherState>>> gathers_;  // [step][stage][pass]
  OpGraph graph_;
  std::vector<std::string> node_what_;
  std::vector<StepRecord> steps_;
};

}  // namespace llmsim
