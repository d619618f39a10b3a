#include "models/sc_kernel.h"

namespace llmsim {

ScKernel::ScKernel(const sc_core::sc_module_name& name, EventQueue& queue)
    : sc_core::sc_module(name), queue_(queue) {
  SC_METHOD(fire);
  sensitive << wake_;
  dont_initialize();
}

void ScKernel::start_of_simulation() { arm(); }

void ScKernel::arm() {
  if (queue_.empty() || queue_.stopped()) return;
  SimTime next = queue_.next_time();
  SimTime now = static_cast<SimTime>(sc_core::sc_time_stamp().value());
  if (next <= now) wake_.notify(sc_core::SC_ZERO_TIME);
  else wake_.notify(sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(next - now)));
}

void ScKernel::fire() {
  if (keep_going && !keep_going()) {
    queue_.stop();
    return;
  }
  try {
    queue_.run_one_time();
  } catch (...) {
    error = std::current_exception();
    queue_.stop();
    return;
  }
  arm();
}

bool run_under_systemc(ScKernel& kernel, EventQueue& queue) {
  sc_core::sc_start();
  if (kernel.error) std::rethrow_exception(kernel.error);
  return !queue.stopped();
}

}  // namespace llmsim
