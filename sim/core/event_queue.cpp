#include "sim/core/event_queue.h"

#include <algorithm>

#include "sim/core/hash.h"

namespace llmsim {

void EventQueue::at(SimTime t, Action action, int priority) {
  SimTime current = now();
  if (t < current) t = current;
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
    actions_[slot] = std::move(action);
  } else {
    slot = static_cast<std::uint32_t>(actions_.size());
    actions_.push_back(std::move(action));
  }
  std::uint64_t seq = seq_++;
  if (shuffle_seed_ != 0) seq = splitmix64(seq ^ shuffle_seed_) & ((1ULL << 40) - 1);
  // Multiply, not <<: shifting a negative priority left is undefined behaviour (UBSan).
  std::int64_t key = static_cast<std::int64_t>(priority) * (std::int64_t{1} << 40) +
                     static_cast<std::int64_t>(seq & ((1ULL << 40) - 1));
  heap_.push_back({t, key, slot});
  std::push_heap(heap_.begin(), heap_.end(), later);
  if (driver_ != nullptr && t < armed_) {
    armed_ = t;
    driver_->wake(t);
  }
}

void EventQueue::pop_and_run() {
  std::pop_heap(heap_.begin(), heap_.end(), later);
  Entry e = heap_.back();
  heap_.pop_back();
  now_ = e.time;
  Action a = std::move(actions_[e.slot]);
  actions_[e.slot] = nullptr;
  free_.push_back(e.slot);
  ++events_run_;
  a();
}

bool EventQueue::run_one_time() {
  if (heap_.empty()) return false;
  SimTime t = heap_.front().time;
  while (!heap_.empty() && heap_.front().time == t && !stopped_) pop_and_run();
  return true;
}

void EventQueue::run(SimTime limit) {
  while (!heap_.empty() && !stopped_ && heap_.front().time <= limit) pop_and_run();
}

}  // namespace llmsim
