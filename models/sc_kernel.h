// Drives SystemC time along the EventQueue: one SC_METHOD, woken at the next pending
// timestamp, runs every event of that instant in (time, priority, sequence) order.
// Modules compute completion times and schedule them; SystemC gives the module tree,
// the time base and sc_trace (VCD).
#pragma once
#include <systemc>

#include <chrono>
#include <exception>
#include <functional>

#include "sim/core/event_queue.h"

namespace llmsim {

class ScKernel : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(ScKernel);
  ScKernel(const sc_core::sc_module_name& name, EventQueue& queue);
  // Called between instants; returning false stops the run (limits, watchdog).
  std::function<bool()> keep_going;
  // An exception an event threw (SystemC would turn it into an sc_report, exit 1):
  // kept here, the run stopped, and rethrown by run_under_systemc.
  std::exception_ptr error;

 private:
  void start_of_simulation() override;
  void fire();
  void arm();
  EventQueue& queue_;
  sc_core::sc_event wake_;
};

// Runs the queue to completion under SystemC (sc_start). Only once per process: SystemC
// 2.3 cannot restart a kernel. Returns false if keep_going stopped it early; rethrows
// what an event threw (InfeasibleError past the time horizon: exit 3).
bool run_under_systemc(ScKernel& kernel, EventQueue& queue);

}  // namespace llmsim
