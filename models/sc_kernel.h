// Drives SystemC time along the EventQueue: one SC_METHOD, woken at the next pending
// timestamp, runs every event of that instant in (time, priority, sequence) order. The
// queue is attached to it as its Driver, so time is sc_time_stamp() and an event that any
// SystemC process (llmsim's models or a plugged-in SystemC / TLM model with processes of
// its own) schedules earlier than the armed instant re-notifies the kernel: the queue is a
// kernel-aware event structure like tlm_utils' payload event queues, not a private clock.
#pragma once
#include <systemc>

#include <chrono>
#include <exception>
#include <functional>

#include "sim/core/event_queue.h"

namespace llmsim {

class ScKernel : public sc_core::sc_module, public EventQueue::Driver {
 public:
  SC_HAS_PROCESS(ScKernel);
  ScKernel(const sc_core::sc_module_name& name, EventQueue& queue);
  ~ScKernel() override;
  // Called between instants; returning false stops the run (limits, watchdog).
  std::function<bool()> keep_going;
  // What an event threw (it stopped the run); run_under_systemc rethrows it.
  std::exception_ptr error;

  SimTime kernel_now() const override;
  void wake(SimTime t) override;

 private:
  void start_of_simulation() override;
  void fire();
  void arm();
  EventQueue& queue_;
  sc_core::sc_event wake_;
};

// SystemC's time resolution, set once per process before anything creates an sc_time:
// 1 ps, the unit of SimTime.
void set_systemc_resolution();

// Runs the queue to completion under SystemC (sc_start). Only once per process: SystemC
// 2.3 cannot restart a kernel. Returns false if keep_going stopped it early. An exception
// thrown by an event ends the run and is rethrown here as it was (SystemC would wrap it in
// an sc_report, turning an InfeasibleError's exit 3 into an internal error).
bool run_under_systemc(ScKernel& kernel, EventQueue& queue);

}  // namespace llmsim
