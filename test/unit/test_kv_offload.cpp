// [offload] KV offload tiers (kv_offload.h): the tier store's LRU cascade and the
// scheduler's fetch accounting, without a simulation.
#include <catch2/catch.hpp>

#include "offload_fixtures.h"
#include "sim/workloads/inference/kv_offload.h"

namespace test_kv_offload {

using namespace llmsim;
using namespace llmsim_test;

TEST_CASE("offload store: evictions fill the first tier, overflow moves down, the last drops", "[offload]") {
  OffloadStore st({2, 1});
  st.store(1);
  st.store(2);
  st.store(3);  // tier 0 holds 2: key 1, stored first, moves to tier 1
  CHECK(st.find(1) == 1);
  CHECK(st.find(2) == 0);
  CHECK(st.find(3) == 0);
  st.store(4);  // key 2 -> tier 1, whose key 1 is dropped
  CHECK(st.find(1) == -1);
  CHECK(st.find(2) == 1);
  CHECK(st.entries(0) == 2);
  CHECK(st.entries(1) == 1);
  CHECK(st.stats(0).stored == 4);
  CHECK(st.stats(1).stored == 2);
  CHECK(st.stats(1).dropped == 1);
  st.take(3);  // fetched back: it leaves the tier
  CHECK(st.find(3) == -1);
  CHECK(st.entries(0) == 1);
  // A tier smaller than one entry passes entries through.
  OffloadStore thin({0, 1});
  thin.store(7);
  CHECK(thin.find(7) == 1);
}

TEST_CASE("scheduler: an entry evicted to an offload tier is fetched back and its prefill waits for it",
          "[offload]") {
  // 20 KV blocks. A (80 tokens = entries a1, a2) runs and finishes, leaving 8 blocks cached;
  // B (130 tokens, 13 blocks) evicts a2. C repeats A's prompt: a1 is in HBM, a2 in tier 0.
  auto a = chain({1, 2}), b = chain({7, 8, 9, 10});
  for (bool offload : {false, true}) {
    ReplicaScheduler s(cached_config(), 20);
    if (offload) s.attach_offload({100});
    s.enqueue(0, 80, 1, a.data(), 2);
    run_to_idle(s);
    s.enqueue(1, 130, 1, b.data(), 4);
    run_to_idle(s);
    s.enqueue(2, 80, 1, a.data(), 2);
    IterationShape sh;
    if (!offload) {
      REQUIRE(s.plan(sh));
      REQUIRE(sh.prefill.size() == 1);
      CHECK(sh.prefill[0].tokens == 40);  // a2 recomputed
      CHECK(s.prefix_stats().hit_blocks == 1);
      continue;
    }
    // Admitted (a2's 4 blocks allocated) but nothing to run until the fetch is in.
    CHECK_FALSE(s.plan(sh));
    CHECK(s.running() == 1);
    REQUIRE(s.fetches().size() == 1);
    CHECK(s.fetches()[0].req == 2);
    CHECK(s.fetches()[0].entries == std::vector<std::int64_t>{1});
    CHECK(s.offload()->find(a[1]) == -1);  // back in HBM, out of the tier
    CHECK_FALSE(s.plan(sh));
    CHECK(s.fetches().empty());  // started once
    REQUIRE(s.loaded(1));  // the first fetch of this scheduler
    CHECK_FALSE(s.loaded(1));
    REQUIRE(s.plan(sh));
    REQUIRE(sh.prefill.size() == 1);
    CHECK(sh.prefill[0].tokens == 1);  // 79 tokens cached: only the last one computed
    CHECK(s.prefix_stats().hit_blocks == 2);
    CHECK(s.prefix_stats().offload_hit_blocks == std::vector<std::int64_t>{1});
    CHECK(s.cache_hits().empty());  // counted at admission, one plan earlier
  }
}

TEST_CASE("scheduler: a request waiting for its fetch does not hold up the others", "[offload]") {
  auto a = chain({1, 2}), b = chain({7, 8, 9, 10}), d = chain({20});
  ReplicaScheduler s(cached_config(), 20);
  s.attach_offload({100});
  s.enqueue(0, 80, 1, a.data(), 2);
  run_to_idle(s);
  s.enqueue(1, 130, 1, b.data(), 4);
  run_to_idle(s);  // a2 now offloaded
  s.enqueue(2, 80, 3, a.data(), 2);
  s.enqueue(3, 40, 3, d.data(), 1);
  IterationShape sh;
  REQUIRE(s.plan(sh));
  REQUIRE(s.fetches().size() == 1);
  REQUIRE(sh.prefill.size() == 1);
  CHECK(sh.prefill[0].tokens == 40);  // request 3 prefills while request 2 waits
  std::vector<std::size_t> first, done;
  s.complete(first, done);
  CHECK(first == std::vector<std::size_t>{3});
}

}  // namespace test_kv_offload
