// Pipeline schedule orders (sim/workloads/training/schedule.h) against the properties the
// papers define them by: every pass once, a micro-batch's backward after its forward,
// the warm-up depth, and the micro-batches whose activations are alive at once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "sim/workloads/training/schedule.h"

namespace test_training_schedule {

using namespace llmsim;

namespace {

// Largest number of (micro-batch, chunk) pairs forwarded but not yet backwarded.
std::int64_t peak_in_flight(const std::vector<PipeItem>& order) {
  std::int64_t live = 0, peak = 0;
  for (const auto& it : order) {
    live += it.forward ? 1 : -1;
    peak = std::max(peak, live);
  }
  return peak;
}

void check_complete(const std::vector<PipeItem>& order, std::int64_t m, std::int64_t v) {
  std::map<std::pair<std::int64_t, std::int64_t>, int> seen_f, seen_b;
  for (const auto& it : order) {
    auto key = std::make_pair(it.micro_batch, it.chunk);
    if (it.forward) {
      ++seen_f[key];
    } else {
      CHECK(seen_f[key] == 1);  // its forward came first
      ++seen_b[key];
    }
  }
  CHECK(static_cast<std::int64_t>(order.size()) == 2 * m * v);
  CHECK(static_cast<std::int64_t>(seen_f.size()) == m * v);
  CHECK(static_cast<std::int64_t>(seen_b.size()) == m * v);
}

}  // namespace

TEST_CASE("1F1B warms up p - s - 1 forwards and holds at most p - s micro-batches", "[training]") {
  const std::int64_t p = 4, m = 8;
  for (std::int64_t s = 0; s < p; ++s) {
    auto o = pipeline_order("1f1b", p, s, m, 1);
    check_complete(o, m, 1);
    std::int64_t warm = 0;
    while (o[static_cast<std::size_t>(warm)].forward) ++warm;
    CHECK(warm == p - s);  // p - s - 1 warm-up forwards, then the first steady forward
    CHECK(peak_in_flight(o) == p - s);
  }
}

TEST_CASE("GPipe runs every forward first and holds all m micro-batches", "[training]") {
  auto o = pipeline_order("gpipe", 4, 1, 8, 1);
  check_complete(o, 8, 1);
  for (std::size_t i = 0; i < 8; ++i) CHECK(o[i].forward);
  CHECK(peak_in_flight(o) == 8);
}

TEST_CASE("interleaved 1F1B visits chunks in groups of p and backward in reverse chunk order", "[training]") {
  const std::int64_t p = 4, m = 8, v = 2;
  for (std::int64_t s = 0; s < p; ++s) {
    auto o = pipeline_order("interleaved-1f1b", p, s, m, v);
    check_complete(o, m, v);
    // Megatron-LM: the first p forwards are chunk 0 of micro-batches 0..p-1, then chunk 1.
    for (std::int64_t k = 0; k < p; ++k) {
      CHECK(o[static_cast<std::size_t>(k)].chunk == 0);
      CHECK(o[static_cast<std::size_t>(k)].micro_batch == k);
    }
    // The first backward is the last chunk's (the last virtual stage's) micro-batch 0.
    auto first_b = std::find_if(o.begin(), o.end(), [](const PipeItem& it) { return !it.forward; });
    CHECK(first_b->chunk == v - 1);
    CHECK(first_b->micro_batch == 0);
    // Warm-up: (p - s - 1) x 2 + (v - 1) x p forwards, then the first steady one.
    CHECK(first_b - o.begin() == (p - s - 1) * 2 + (v - 1) * p + 1);
  }
}

}  // namespace test_training_schedule
