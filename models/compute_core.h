// One stream of a device (CUDA-stream / XLA-queue semantics): a FIFO of operators, each
// started when the one before it ends. An op's launch and first fetch (estimate_op's
// prologue) is a fixed delay; its body then runs on the device's ResourceArbiter as
// compute work (compute_time x units, at the current clock) and tier bytes, shared with
// the device's other streams, copies and collective kernels, so its end is known only
// when it comes. A stream accounts busy time, FLOPs and dynamic energy, and records one
// timeline span per op (per tile wave too when wave spans are on). Stream "compute" is
// every device's default; "compute1" a second compute stream; "copy" the DMA engine,
// whose ops take no compute units.
#pragma once
#include <systemc>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/resource_arbiter.h"
#include "sim/ops/op.h"

namespace llmsim {

class ModelContext;

class ComputeCore : public sc_core::sc_module {
 public:
  using Done = std::function<void(const OpCost&)>;

  // `uses_units`: kernels on this stream occupy compute units (false for a copy engine).
  ComputeCore(const sc_core::sc_module_name& name, const ChipSpec& chip, ModelContext& sim,
              const std::string& device_name, ResourceArbiter& arbiter, bool uses_units = true);

  // Queues `op` behind the ops already submitted; `done` runs at its completion time.
  // Throws std::invalid_argument (from estimate_op) for an op this chip cannot run.
  void submit(const Op& op, Done done);
  // Same with a cost the caller already estimated (hot loops reuse one estimate).
  void submit(const OpCost& cost, const std::string& label, Done done);
  // Ordered submission: ops submitted at one instant run in an order that does not depend
  // on the order their events ran (--debug-tie-shuffle). Behind everything older come
  // those the stream's own finishing op submitted from its `done` (at most one op ends on
  // a stream per instant: they start at once), then the others by `order` (>= 0), which
  // a stream with nothing older to run starts at the instant's end (kOrderedStartPriority).
  // The microbench passes its op index.
  void submit_ordered(const Op& op, std::int64_t order, Done done);

  // Timeline: one span per tile wave (microbench) in addition to the per-op span.
  void set_wave_spans(bool on) { wave_spans_ = on; }

  bool busy() const { return running_ || start_armed_; }
  std::size_t queued() const { return queue_.size() - head_; }
  SimTime busy_time() const { return busy_time_; }
  Flops flops() const { return flops_; }
  Joules energy() const { return energy_; }
  std::uint64_t ops_done() const { return ops_done_; }
  // Time ops spent queued behind earlier ops of this stream (submit to start), summed.
  SimTime queue_delay() const { return queue_delay_; }

 private:
  struct Pending {
    OpCost cost;
    std::string label;
    Done done;
    SimTime submitted = 0;
    std::int64_t order = -1;    // submit_ordered's key, -1 for plain FIFO submissions
    bool continuation = false;  // submitted by the stream's finishing op (its `done`)
  };
  void start_next();
  void start_head();  // starts queue_[head_] now (start_next may wait for the instant's end)
  void begin_body();
  void finish();
  std::vector<ResourceDemand> demands(const OpCost& c) const;
  void spread_energy(const OpCost& c, std::vector<ResourceDemand>& d) const;
  void record(const Pending& p, SimTime begin, SimTime end);

  const ChipSpec& chip_;
  ModelContext& sim_;
  std::string device_name_;
  ResourceArbiter& arbiter_;
  bool uses_units_ = true;
  // FIFO of ops: queue_[head_ ..] are pending. A vector with a head index, not a deque:
  // a Pending (~400 B) is larger than libstdc++'s 512 B deque node, so the deque allocated
  // and freed a node per op (3 % of serve-hour). Storage is kept and compacted when drained.
  std::vector<Pending> queue_;
  std::size_t head_ = 0;
  bool running_ = false;
  SimTime started_ = 0;
  bool wave_spans_ = false;
  bool busy_signal_ = false;  // last "busy" counter value written (changes only)
  bool busy_check_armed_ = false;  // an end-of-instant check for the 0 point is queued
  bool start_armed_ = false;       // an ordered start is queued for this instant's end
  bool in_done_ = false;           // running a finished op's `done`
  // Before the busy check, after the workloads' same-instant passes.
  static constexpr int kOrderedStartPriority = 50;
  // After the workloads' hand-off passes (priority 1) at the same instant.
  static constexpr int kBusyCheckPriority = 100;
  int track_ = -1;
  SimTime busy_time_ = 0;
  double flops_ = 0;
  Joules energy_ = 0;
  std::uint64_t ops_done_ = 0;
  SimTime queue_delay_ = 0;
};

}  // namespace llmsim
