// The compute core of a device: a FIFO stream of operators, timed by estimate_op
// (sim/ops/op.h). Event-driven: a submitted op completes on the Simulation's EventQueue at
// start + estimated time; the core accounts busy time, FLOPs and dynamic energy, and
// records one timeline span per op (per tile wave too when wave spans are on).
#pragma once
#include <systemc>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "sim/ops/op.h"

namespace llmsim {

class Simulation;

class ComputeCore : public sc_core::sc_module {
 public:
  using Done = std::function<void(const OpCost&)>;

  ComputeCore(const sc_core::sc_module_name& name, const ChipSpec& chip, Simulation& sim,
              const std::string& device_name);

  // Queues `op` behind the ops already submitted; `done` runs at its completion time.
  // Throws std::invalid_argument (from estimate_op) for an op this chip cannot run.
  void submit(const Op& op, Done done);
  // Same with a cost the caller already estimated (hot loops reuse one estimate).
  void submit(const OpCost& cost, const std::string& label, Done done);

  // Timeline: one span per tile wave (microbench) in addition to the per-op span.
  void set_wave_spans(bool on) { wave_spans_ = on; }

  bool busy() const { return running_; }
  std::size_t queued() const { return queue_.size(); }
  SimTime busy_time() const { return busy_time_; }
  double flops() const { return flops_; }
  Joules energy() const { return energy_; }
  std::uint64_t ops_done() const { return ops_done_; }

 private:
  struct Pending {
    OpCost cost;
    std::string label;
    Done done;
  };
  void start_next();
  void finish();
  void record(const Pending& p, SimTime begin, SimTime end);

  const ChipSpec& chip_;
  Simulation& sim_;
  std::string device_name_;
  std::deque<Pending> queue_;
  bool running_ = false;
  SimTime started_ = 0;
  bool wave_spans_ = false;
  bool busy_signal_ = false;  // last "busy" counter value written (changes only)
  int track_ = -1;
  SimTime busy_time_ = 0;
  double flops_ = 0;
  Joules energy_ = 0;
  std::uint64_t ops_done_ = 0;
};

}  // namespace llmsim
