// [offload] A shared remote store (Mooncake store, kv_offload.h `shared: true`): one pool
// for every replica's store. An entry one replica evicted into it is found by another,
// and a hit reads a copy (the entry stays for the next replica).
#include <catch2/catch.hpp>

#include "offload_fixtures.h"
#include "sim/workloads/inference/kv_offload.h"

namespace test_kv_offload_shared {

using namespace llmsim;
using namespace llmsim_test;

TEST_CASE("shared offload tier: what one store put there the other finds, and a hit leaves it there", "[offload]") {
  auto pool = OffloadStore::make_tier(10, true);
  OffloadStore a({pool}), b({pool});
  a.store(5);
  CHECK(b.find(5) == 0);
  b.take(5);  // a copy is read: the entry stays
  CHECK(a.find(5) == 0);
  CHECK(b.entries(0) == 1);
  b.store(5);  // already in the pool: nothing written
  CHECK(a.stats(0).stored == 1);
  CHECK(b.stats(0).stored == 0);
  // Behind a private tier: A's private overflow lands in the pool, which B reads.
  auto pool2 = OffloadStore::make_tier(10, true);
  OffloadStore pa({OffloadStore::make_tier(1, false), pool2}), pb({OffloadStore::make_tier(1, false), pool2});
  pa.store(1);
  pa.store(2);  // key 1 moves down into the shared pool
  CHECK(pb.find(1) == 1);
  CHECK(pb.find(2) == -1);  // in A's private tier only
}

TEST_CASE("shared remote store: a prefix replica A evicted is fetched by replica B", "[offload]") {
  // 20 KV blocks per replica, watermark int(0.01 x 20) = 0. On A, prompt P (80 tokens =
  // entries p1, p2) runs and stays cached (8 blocks); Q (170 tokens: 4 entries + 1 block
  // = 17 blocks) finds 12 free and evicts both of P's entries into the tier. B has never
  // seen P: with the pool shared its two entries are found there and fetched; with a
  // private tier per replica B finds nothing.
  auto p = chain({1, 2}), q = chain({7, 8, 9, 10});
  for (bool shared : {true, false}) {
    auto pool = OffloadStore::make_tier(100, true);
    ReplicaScheduler a(cached_config(), 20), b(cached_config(), 20);
    a.attach_offload_tiers(
        std::vector<std::shared_ptr<OffloadStore::Tier>>{shared ? pool : OffloadStore::make_tier(100, false)});
    b.attach_offload_tiers(
        std::vector<std::shared_ptr<OffloadStore::Tier>>{shared ? pool : OffloadStore::make_tier(100, false)});
    a.enqueue(0, 80, 1, p.data(), 2);
    run_to_idle(a);
    a.enqueue(1, 170, 1, q.data(), 4);
    run_to_idle(a);
    CHECK(a.offload()->entries(0) == 2);
    b.enqueue(2, 80, 1, p.data(), 2);
    IterationShape sh;
    b.plan(sh);
    INFO("shared " << shared);
    if (shared) {
      REQUIRE(b.fetches().size() == 1);
      CHECK(b.fetches()[0].entries == std::vector<std::int64_t>{2});
      CHECK(b.prefix_stats().hit_blocks == 2);
      CHECK(b.prefix_stats().offload_hit_blocks[0] == 2);
      CHECK(a.offload()->entries(0) == 2);  // still in the pool for the next replica
    } else {
      CHECK(b.fetches().empty());
      CHECK(b.prefix_stats().hit_blocks == 0);
    }
  }
}

}  // namespace test_kv_offload_shared
