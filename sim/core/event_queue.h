// The discrete-event heart: a deterministic queue ordered by (time, priority, insertion
// sequence), as SST orders its events. Pure C++ so tests can build many; the SystemC
// kernel driver (models/sc_kernel.h) advances SystemC time along it.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "sim/core/units.h"

namespace llmsim {

class EventQueue {
 public:
  using Action = std::function<void()>;

  // The SystemC side (models/sc_kernel.h): when attached, time is the kernel's, and an
  // event scheduled before the instant the kernel is armed for wakes it. So a SystemC
  // process of a plugged-in model may schedule work here from its own wait()s.
  class Driver {
   public:
    virtual ~Driver() = default;
    virtual SimTime kernel_now() const = 0;
    virtual void wake(SimTime t) = 0;  // t >= kernel_now()
  };
  void attach(Driver* d) { driver_ = d; }
  // The driver's armed instant; at() calls wake() only for events before it.
  void set_armed(SimTime t) { armed_ = t; }

  // Schedules `action` at absolute time t (clamped to now). Lower priority runs first
  // among events at the same time; equal priorities run in insertion order.
  void at(SimTime t, Action action, int priority = 0);
  void after(SimTime dt, Action action, int priority = 0) { at(time_add(now(), dt), std::move(action), priority); }

  SimTime now() const {
    if (driver_ == nullptr) return now_;
    SimTime k = driver_->kernel_now();
    return k > now_ ? k : now_;
  }
  bool empty() const { return heap_.empty(); }
  SimTime next_time() const { return heap_.empty() ? kNever : heap_.front().time; }
  std::uint64_t events_run() const { return events_run_; }
  std::size_t pending() const { return heap_.size(); }

  // Runs every event stamped with the earliest pending time (including ones they add at
  // that same time). Returns false when nothing was pending.
  bool run_one_time();
  // Runs until empty, or the next event lies beyond `limit`, or stop() was called.
  void run(SimTime limit = kNever);
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

  // Debug aid (issue 7): randomises the order of same-time, same-priority events with
  // this seed, to expose order dependence. 0 = off (insertion order).
  void set_tie_shuffle(std::uint64_t seed) { shuffle_seed_ = seed; }

  static constexpr SimTime kNever = std::numeric_limits<SimTime>::max();

 private:
  struct Entry {
    SimTime time;
    std::int64_t key;  // priority << 40 | sequence (or shuffled sequence)
    std::uint32_t slot;
  };
  static bool later(const Entry& a, const Entry& b) {
    return a.time != b.time ? a.time > b.time : a.key > b.key;
  }
  void pop_and_run();

  std::vector<Entry> heap_;
  std::vector<Action> actions_;      // slot -> action
  std::vector<std::uint32_t> free_;  // recycled slots
  SimTime now_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t events_run_ = 0;
  std::uint64_t shuffle_seed_ = 0;
  bool stopped_ = false;
  Driver* driver_ = nullptr;
  SimTime armed_ = kNever;
};

}  // namespace llmsim
