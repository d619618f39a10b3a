#include "models/sc_kernel.h"

namespace llmsim {

ScKernel::ScKernel(const sc_core::sc_module_name& name, EventQueue& queue)
    : sc_core::sc_module(name), queue_(queue) {
  SC_METHOD(fire);
  sensitive << wake_;
  dont_initialize();
  queue_.attach(this);
}

ScKernel::~ScKernel() { queue_.attach(nullptr); }

SimTime ScKernel::kernel_now() const { return static_cast<SimTime>(sc_core::sc_time_stamp().value()); }

void ScKernel::wake(SimTime t) {
  // Before sc_start the first arm() happens in start_of_simulation.
  if (sc_core::sc_get_status() == sc_core::SC_ELABORATION) return;
  SimTime now = kernel_now();
  // An earlier notification replaces a later pending one (IEEE 1666 5.10.8).
  if (t <= now) wake_.notify(sc_core::SC_ZERO_TIME);
  else wake_.notify(sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(t - now)));
}

void ScKernel::start_of_simulation() { arm(); }

void ScKernel::arm() {
  if (queue_.empty() || queue_.stopped()) {
    queue_.set_armed(EventQueue::kNever);
    return;
  }
  SimTime next = queue_.next_time();
  queue_.set_armed(next);
  wake(next);
}

void ScKernel::fire() {
  if (keep_going && !keep_going()) {
    queue_.stop();
    return;
  }
  // A wake-up for an instant whose events are not due yet (a later notification that an
  // earlier one replaced) only re-arms.
  if (!queue_.empty() && queue_.next_time() <= kernel_now()) {
    try {
      queue_.run_one_time();
    } catch (...) {
      error = std::current_exception();
      queue_.stop();
      return;
    }
  }
  arm();
}

void set_systemc_resolution() {
  static bool done = false;
  if (done) return;
  done = true;
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
}

bool run_under_systemc(ScKernel& kernel, EventQueue& queue) {
  sc_core::sc_start();
  if (kernel.error) std::rethrow_exception(kernel.error);
  return !queue.stopped();
}

}  // namespace llmsim
