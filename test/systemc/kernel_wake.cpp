// SystemC runs once per process, so tests that need sc_start are programs of their own
// (one ctest case each, exit status = result). This one proves the EventQueue is a proper
// SystemC primitive: a plugged-in model's SC_THREAD, with its own wait()s, schedules work
// on the queue while the kernel sleeps until a far event; the queue wakes the kernel at
// the right instant, relative times are taken from the kernel's clock, and llmsim's own
// events still run in order around it.
#include <systemc>

#include <cstdio>
#include <vector>

#include "models/sc_kernel.h"
#include "sim/core/event_queue.h"

using namespace llmsim;

namespace {

int failures = 0;
void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

struct Plugin : sc_core::sc_module {
  SC_HAS_PROCESS(Plugin);
  Plugin(const sc_core::sc_module_name& n, EventQueue& q, std::vector<std::pair<char, SimTime>>& log)
      : sc_core::sc_module(n), queue(q), log(log) {
    SC_THREAD(run);
  }
  void run() {
    wait(5, sc_core::SC_NS);  // the queue's only event is at 100 ns: the kernel sleeps
    queue.after(3000, [this] { log.push_back({'p', queue.now()}); });  // 3 ns after now
    wait(20, sc_core::SC_NS);
    queue.at(queue.now(), [this] { log.push_back({'n', queue.now()}); });  // this instant
  }
  EventQueue& queue;
  std::vector<std::pair<char, SimTime>>& log;
};

}  // namespace

int main() {
  set_systemc_resolution();
  EventQueue q;
  std::vector<std::pair<char, SimTime>> log;
  q.at(100000, [&] { log.push_back({'f', q.now()}); });  // 100 ns
  ScKernel kernel("kernel", q);
  Plugin plugin("plugin", q, log);
  sc_core::sc_start();
  expect(log.size() == 3, "three events ran");
  if (log.size() == 3) {
    expect(log[0].first == 'p' && log[0].second == 8000, "plug-in event at 5 + 3 ns");
    expect(log[1].first == 'n' && log[1].second == 25000, "same-instant event at 25 ns");
    expect(log[2].first == 'f' && log[2].second == 100000, "llmsim's own event at 100 ns");
  }
  expect(sc_core::sc_time_stamp() == sc_core::sc_time(100, sc_core::SC_NS), "kernel time follows the queue");
  std::printf("%s\n", failures == 0 ? "1 passed, 0 failed" : "0 passed, 1 failed");
  return failures == 0 ? 0 : 1;
}
