#include <catch2/catch.hpp>

#include <vector>

#include "sim/core/event_queue.h"

namespace test_event_queue {

using namespace llmsim;

TEST_CASE("event queue: time, priority, then insertion order", "[engine]") {
  EventQueue q;
  std::vector<int> order;
  q.at(100, [&] { order.push_back(3); });
  q.at(50, [&] { order.push_back(1); });
  q.at(100, [&] { order.push_back(4); });
  q.at(100, [&] { order.push_back(2); }, -1);
  q.at(50, [&] { q.after(0, [&] { order.push_back(5); }); });
  q.run();
  CHECK(order == std::vector<int>{1, 5, 2, 3, 4});
  CHECK(q.now() == 100);
  CHECK(q.events_run() == 6);
}

TEST_CASE("event queue: tie shuffle keeps time order", "[engine]") {
  EventQueue q;
  q.set_tie_shuffle(42);
  std::vector<SimTime> times;
  for (int i = 0; i < 100; ++i) q.at((i * 37) % 10, [&] { times.push_back(q.now()); });
  q.run();
  for (size_t i = 1; i < times.size(); ++i) CHECK(times[i - 1] <= times[i]);
}

}  // namespace test_event_queue
