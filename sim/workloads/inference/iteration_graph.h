// One serving iteration of a replica as an op graph (sim/engine/op_graph.h), built once
// per replica and re-armed every iteration (an hour of traffic is ~100k iterations; the
// nodes, their closures and the per-stage costs are reused, not reallocated). Per
// pipeline stage s:
//   compute[s][t]  the stage's ops on TP rank t, one aggregated op on the device's compute
//                  stream (timed by lowering.h); its KV-tier bytes go to the device's
//                  arbiter, so it shares HBM with KV moves and collective kernels
//   all-reduce[s]  the stage's TP all-reduces (tp > 1): one on the network, the other
//                  identical ones as repeats of its time (lowering.h)
//   all-to-all[s]  MoE dispatch + combine (tp > 1), the same way
//   logits         (last stage, tp > 1) the vocab-sharded LM head's logit rows,
//                  all-gathered over the TP group before sampling
//   weights: gathered replaces the all-reduces: the first layer's weight all-gather before
//                  compute[s][*], the other layers' beside it (each layer's weights arrive
//                  while the layer before runs, into the double buffer of dataflow.h),
//                  exposed only where they outlast the compute; and the logits with the
//                  LM head's weights (lowering.h)
//   2-D TP (tp_rows x tp_cols) replaces both with one node per phase of tp_layout.h: the
//                  phase's collective on all row (or column) groups at once
//   send[s][t]     rank t's 1/tp slice of the activations to rank t of stage s+1
//                  (Megatron-LM's scatter/gather, Narayanan et al. SC'21 §4.1)
//   return[t]      (pp > 1) the step's sampled token ids, last stage rank t -> first stage
//                  rank t: the next step's embedding needs them, so a pipeline's every
//                  step pays pp - 1 forward hand-offs and this one back
// Around them, the software stack's host work (sim/software/stack.h): a `prep` node (the
// engine's per-iteration host time) before the first compute ops, or beside them when the
// stack overlaps host and device, and a `launch` node (eager kernel launches or one graph
// launch) beside the device chain (before it under `dispatch: lazy`): the iteration ends
// when the device chain, the launches and (overlapped) the preparation have all finished.
// then one end node. Edges: compute[s][*] -> all-reduce -> all-to-all (-> logits on the
// last stage) -> send[s][*] ->
// compute[s+1][*]; the last stage's last node -> return[*] -> end. Stages of one iteration do not
// overlap (no pipelined micro-batches; pipeline engines overlap instead: docs/inference.md).
#pragma once
#include <array>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/engine/op_graph.h"
#include "sim/ops/op.h"
#include "sim/workloads/inference/config.h"
#include "sim/workloads/inference/lowering.h"
#include "sim/workloads/inference/time_split.h"

namespace llmsim {

class Simulation;

class IterationGraph {
 public:
  // `stages`: [stage][tp rank] -> device. `on_end` runs when the iteration's last op has
  // finished; it may call run() again (the graph is re-armed by then).
  IterationGraph(Simulation& sim, const InferenceConfig& cfg, const Lowering& lowering,
                 std::vector<std::vector<int>> stages, std::function<void()> on_end);
  IterationGraph(const IterationGraph&) = delete;
  IterationGraph& operator=(const IterationGraph&) = delete;

  // Starts one iteration of `shape` now. `label` names the compute ops on the timeline.
  void run(const IterationShape& shape, const std::string& label);
  // This graph's rank among the workload's graphs (its engine index): same-time host events
  // of different graphs run in this order, whatever order they were queued in.
  void set_order(int order) { order_ = order; }
  bool running() const { return running_; }
  const std::vector<std::vector<int>>& stages() const { return stages_; }
  std::size_t nodes() const { return graph_.size(); }
  const TimeSplit& time_split() const { return split_; }

 private:
  int order_ = 0;
  void build();
  void add_collective(std::size_t s, CollectiveKind kind, std::vector<int>& last);
  void launch_compute(std::size_t s, std::size_t t, int node);
  // The stage's all-reduces or MoE all-to-alls.
  void launch_collective(std::size_t s, CollectiveKind kind, int node);
  // Stage s's compute nodes after `after`, with a weight-gathered stage's all-gathers.
  std::vector<int> add_compute(std::size_t s, std::vector<int> after);
  // Weight-gathered: the first layer's all-gather (`first`), or the other layers', which
  // run beside the compute and count as communication only past its end.
  void launch_gathers(std::size_t s, bool first, int node);
  void launch_logits(std::size_t s, int node);
  void launch_send(std::size_t s, std::size_t t, int node);
  void launch_return(std::size_t t, int node);
  // A pipeline hand-off of `bytes` on the network, counted as communication time.
  void hand_off(int from, int to, double bytes, int node);
  void launch_tp2d(std::size_t s, std::size_t phase, int node);
  void repeat_collective(Seconds t, std::int64_t n, int node);
  // `hidden`: cannot outlast the device ops, so it completes at once (no event).
  void host_delay(Seconds t, const char* what, int node, bool hidden);
  void account_iteration();

  Simulation& sim_;
  const InferenceConfig& cfg_;
  const Lowering& lowering_;
  std::vector<std::vector<int>> stages_;
  std::function<void()> on_end_;
  OpGraph graph_;
  std::vector<StageCost> costs_;  // this iteration's, per stage
  std::vector<OpCost> ops_;       // the per-device compute op of each stage
  // 2-D TP (tp_layout.h): per stage, its row groups [0] and column groups [1] of devices.
  std::vector<std::array<std::vector<std::vector<int>>, 2>> tp2d_groups_;
  std::string label_;
  int kv_tier_ = -1;              // arbiter index of the KV tier (-1: the chip has none)
  bool running_ = false;
  // This iteration's host times and the timestamps the time split is read from.
  Seconds prep_ = 0, launch_ = 0;
  bool launch_hidden_ = false;
  std::unordered_map<double, Seconds> logits_time_;  // logits all-gather time by size
  static constexpr double kTokenIdBytes = 4;  // an int32 token id (vocabularies < 2^31)
  double return_bytes_ = 0;                   // this step's sampled ids, back to stage 0
  SimTime begin_ = 0, device_end_ = 0, send_end_ = 0;
  Seconds comm_ = 0;
  SimTime compute_end_ = 0;  // the current stage's compute end (weight-gathered exposure)
  bool compute_done_ = false;
  int host_track_ = -1;
  TimeSplit split_;
};

// Disaggregated serving's KV hand-off of `bytes` from device `from` to device `to`, in
// paged blocks of `block_bytes` (block_size tokens of one layer): the sender's copy engine
// (its `copy` stream) reads the blocks out of its KV tier, sharing that tier's bandwidth with
// the sender's next iteration, while the network carries them and the receiver's KV tier
// takes their writes, sharing its bandwidth with the receiver's decode; `done` runs when
// all three have finished.
void move_kv(Simulation& sim, int from, int to, Bytes bytes, Bytes block_bytes, std::function<void()> done);

// One device's side of a KV copy: `bytes` of paged blocks read out of (`read`) or written
// into its KV tier, sharing the tier with whatever else streams it; `done` (may be empty)
// runs when the last byte has moved. False (and nothing charged) when the device has no KV
// tier with bandwidth.
bool stream_kv_blocks(Simulation& sim, int device, Bytes bytes, Bytes block_bytes, bool read,
                      std::function<void()> done);

}  // namespace llmsim
