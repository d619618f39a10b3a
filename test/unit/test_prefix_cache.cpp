// [prefix] Automatic prefix caching (prefix_cache.h), its scheduler accounting, the
// Mooncake trace reader and the shared-prefix generator, without a simulation.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/traces/request.h"
#include "sim/workloads/inference/prefix_cache.h"
#include "sim/workloads/inference/router.h"
#include "sim/workloads/inference/scheduler.h"

namespace test_prefix_cache {

using namespace llmsim;

namespace {

const std::string kConvTrace = std::string(LLMSIM_SOURCE_DIR) + "/workloads/traces/mooncake-conversation-2025.jsonl";

std::string located(const std::string& text) {
  TraceOptions o;
  o.format = "mooncake";
  try {
    read_trace_text(text, "m.jsonl", o);
  } catch (const InputError& e) {
    return e.located();
  }
  return "no error";
}

// Chained keys of raw block ids (what the reader stores).
std::vector<std::uint64_t> chain(const std::vector<std::uint64_t>& ids) {
  std::vector<std::uint64_t> k;
  std::uint64_t p = 0;
  for (auto id : ids) k.push_back(p = chain_block_key(p, id));
  return k;
}

SchedulerConfig cached_config(std::int64_t hashed_block) {
  SchedulerConfig c;
  c.max_batch = 8;
  c.max_batched_tokens = 1000;
  c.block_size = 10;
  c.max_context = 100000;
  c.prefix_caching = true;
  c.prefix_block_tokens = hashed_block;
  return c;
}

// Runs a scheduler until idle; returns the iterations.
int drain(ReplicaScheduler& s) {
  IterationShape sh;
  std::vector<std::size_t> first, done;
  int n = 0;
  while (!s.idle() && n < 100000) {
    REQUIRE(s.plan(sh));
    s.complete(first, done);
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("prefix cache: prefix match, shared holders, LRU eviction deepest block first", "[prefix]") {
  PrefixCache c(32);
  auto a = chain({1, 2, 3}), b = chain({1, 2, 9}), d = chain({7, 2, 3});
  CHECK(c.match(a.data(), 3).entries == 0);
  c.acquire(a.data(), 3);
  CHECK(c.entries() == 3);
  CHECK(c.idle_entries() == 0);
  // b shares the first two blocks of a; d shares none (same ids after a different first
  // block are a different prefix: the keys are chained).
  CHECK(c.match(b.data(), 3).entries == 2);
  CHECK(c.match(b.data(), 3).idle == 0);
  CHECK(c.match(d.data(), 3).entries == 0);
  c.acquire(b.data(), 3);
  CHECK(c.entries() == 4);  // 1, 1-2 shared; 1-2-3 and 1-2-9 own
  c.release(a.data(), 3);
  CHECK(c.idle_entries() == 1);  // only 1-2-3: the others are still held by b
  c.release(b.data(), 3);
  CHECK(c.idle_entries() == 4);
  // Released b last, deepest first: LRU order is a3, b3, b2(=a2), b1(=a1).
  REQUIRE(c.evict_one());
  CHECK(c.match(a.data(), 3).entries == 2);
  CHECK(c.match(b.data(), 3).entries == 3);
  REQUIRE(c.evict_one());
  CHECK(c.match(b.data(), 3).entries == 2);
  REQUIRE(c.evict_one());
  REQUIRE(c.evict_one());
  CHECK_FALSE(c.evict_one());
  CHECK(c.entries() == 0);
}

TEST_CASE("scheduler: a shared prefix is held once in KV and skips its prefill", "[prefix]") {
  // Hashed blocks of 40 tokens = 4 KV blocks of 10. Two requests of 130-token prompts share
  // their first 3 hashed blocks (120 tokens); each has one partial block of 10 of its own.
  SchedulerConfig c = cached_config(40);
  ReplicaScheduler s(c, 100);
  auto a = chain({1, 2, 3, 4}), b = chain({1, 2, 3, 5});
  s.enqueue(0, 130, 5, a.data(), 4);
  IterationShape sh;
  std::vector<std::size_t> first, done;
  REQUIRE(s.plan(sh));
  // A: ceil(130 / 10) = 13 blocks: 3 entries x 4 blocks + 1 of its own.
  CHECK(s.free_blocks() == 100 - 13);
  CHECK(sh.prefill.at(0).tokens == 130);
  s.complete(first, done);
  s.enqueue(1, 130, 5, b.data(), 4);
  REQUIRE(s.plan(sh));
  // A's first decode took a block for its token 131. B finds 3 entries (120 tokens): it
  // allocates only its own block and prefills 10 tokens over a context of 130.
  CHECK(s.free_blocks() == 100 - 13 - 1 - 1);
  REQUIRE(sh.prefill.size() == 1);
  CHECK(sh.prefill[0].tokens == 10);
  CHECK(sh.prefill[0].context == 130);
  REQUIRE(s.cache_hits().size() == 1);
  CHECK(s.cache_hits()[0].second == 120);
  drain(s);
  // Both done: own blocks freed, the 3 shared entries stay cached (idle, evictable).
  CHECK(s.free_blocks() == 100 - 12);
  CHECK(s.prefix_cache()->idle_entries() == 3);
  CHECK(s.prefix_stats().blocks == 8);
  CHECK(s.prefix_stats().hit_blocks == 3);
  CHECK(s.prefix_stats().cached_tokens == 120);
}

TEST_CASE("scheduler: a fully cached prompt still computes its last token", "[prefix]") {
  SchedulerConfig c = cached_config(40);
  ReplicaScheduler s(c, 100);
  auto k = chain({1, 2});
  s.enqueue(0, 80, 1, k.data(), 2);
  drain(s);
  s.enqueue(1, 80, 1, k.data(), 2);
  IterationShape sh;
  REQUIRE(s.plan(sh));
  REQUIRE(sh.prefill.size() == 1);
  CHECK(sh.prefill[0].tokens == 1);  // 80 cached tokens, the 80th recomputed for its logits
  CHECK(s.cache_hits().at(0).second == 79);
}

TEST_CASE("scheduler: idle cached blocks are evicted when a new request needs the room", "[prefix]") {
  // 20 KV blocks; hashed block = 4 KV blocks. A (80 tokens: 2 entries, no own block) runs
  // and finishes, leaving 8 blocks cached; B (130 tokens, unrelated: 3 entries + 1 own =
  // 13 blocks) needs 13 > 12 free: one of A's entries is evicted (the deeper one).
  SchedulerConfig c = cached_config(40);
  ReplicaScheduler s(c, 20);
  auto a = chain({1, 2}), b = chain({7, 8, 9, 10});
  s.enqueue(0, 80, 1, a.data(), 2);
  drain(s);
  CHECK(s.free_blocks() == 12);
  s.enqueue(1, 130, 1, b.data(), 4);
  IterationShape sh;
  REQUIRE(s.plan(sh));
  CHECK(s.prefix_cache()->entries() == 4);  // A's first block kept, its second evicted
  CHECK(s.prefix_cache()->match(a.data(), 2).entries == 1);
  CHECK(s.free_blocks() == 20 - 4 - 13);
}

TEST_CASE("mooncake trace: rows, keys and positioned errors", "[prefix][trace]") {
  TraceOptions o;
  o.format = "mooncake";
  PrefixKeys keys;
  auto r = read_trace_text(
      "{\"timestamp\": 0, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0, 1]}\n"
      "{\"timestamp\": 1500, \"input_length\": 512, \"output_length\": 1, \"hash_ids\": [0]}\n",
      "m.jsonl", o, &keys);
  REQUIRE(r.size() == 2);
  CHECK(r[1].arrival == Approx(1.5));
  CHECK(r[0].prompt_tokens == 600);
  CHECK(keys.block_tokens == 512);
  REQUIRE(keys.keys.size() == 3);
  CHECK(r[1].key_begin == 2);
  CHECK(keys.of(r[1])[0] == keys.of(r[0])[0]);  // same first block, same key
  CHECK(located("{\"timestamp\": 0, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0]}\n")
            .find("m.jsonl:1:1: hash_ids: 1 blocks, but input_length 600 needs ceil(600 / 512) = 2") != std::string::npos);
  CHECK(located("{\"timestamp\": 0, \"input_length\": 6, \"output_length\": 5, \"hash_ids\": [-3]}\n")
            .find("m.jsonl:1:1: hash_ids: expected non-negative integers") != std::string::npos);
  CHECK(located("{\"timestamp\": 0, \"input_length\": 6, \"output_length\": 0, \"hash_ids\": [3]}\n")
            .find("output_length: must be at least 1") != std::string::npos);
  CHECK(located("{\"timestamp\": 0, \"input_length\": 6, \"output_length\": 1, \"hash_ids\": [3], \"x\": 1}\n")
            .find("unknown field 'x'") != std::string::npos);
  CHECK(located("{\"timestamp\": 9, \"input_length\": 6, \"output_length\": 1, \"hash_ids\": [3]}\n"
                "{\"timestamp\": 2, \"input_length\": 6, \"output_length\": 1, \"hash_ids\": [3]}\n")
            .find("m.jsonl:2:1: timestamp goes backwards") != std::string::npos);
  CHECK(located("{\"timestamp\": 0, \"input_length\": 6, \"output_length\": 1}\n").find("missing 'hash_ids'") !=
        std::string::npos);
  CHECK(located("{\"timestamp\": 0, \"input_length\": 6,\n").find("m.jsonl:1:") != std::string::npos);
}

TEST_CASE("mooncake conversation trace, unbounded KV: block hit rate = the trace's reuse fraction", "[prefix]") {
  // Independent count: a full prompt block (index < input_length / 512) is reusable when an
  // earlier request had the same hash id as a full block; over all hashed blocks.
  std::ifstream in(kConvTrace);
  std::string line;
  std::set<long long> seen;
  long long blocks = 0, repeats = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    const long long full = j["input_length"].get<long long>() / 512;
    const auto& ids = j["hash_ids"];
    blocks += static_cast<long long>(ids.size());
    for (long long i = 0; i < full; ++i) repeats += seen.count(ids[i].get<long long>());
    for (long long i = 0; i < full; ++i) seen.insert(ids[i].get<long long>());
  }
  const double reuse = static_cast<double>(repeats) / static_cast<double>(blocks);
  CHECK(reuse == Approx(0.37).margin(0.01));  // the trace README's 37 %

  TraceOptions o;
  o.format = "mooncake";
  o.file = kConvTrace;
  PrefixKeys keys;
  auto reqs = read_trace(o, &keys);
  REQUIRE(reqs.size() == 12031);
  // One replica with room for every block of the trace, admitting all in arrival order.
  SchedulerConfig c = cached_config(512);
  c.block_size = 16;
  c.max_batch = 1 << 20;
  c.max_batched_tokens = std::int64_t{1} << 40;
  ReplicaScheduler s(c, std::int64_t{1} << 40);
  for (std::size_t i = 0; i < reqs.size(); ++i) s.enqueue(i, reqs[i].prompt_tokens, 1, keys.of(reqs[i]), reqs[i].key_count);
  IterationShape sh;
  REQUIRE(s.plan(sh));
  CHECK(s.waiting() == 0);
  const auto& st = s.prefix_stats();
  CHECK(st.blocks == blocks);
  CHECK(st.hit_blocks == repeats);
}

TEST_CASE("router: prefix-affinity picks the replica holding the longest prefix, within the load cap", "[prefix]") {
  SchedulerConfig c = cached_config(40);
  ReplicaScheduler r0(c, 1000), r1(c, 1000), r2(c, 1000);
  auto a = chain({1, 2, 3}), b = chain({1, 2, 3, 4});
  r1.enqueue(0, 120, 50, a.data(), 3);  // r1 now holds a's three blocks
  IterationShape sh;
  REQUIRE(r1.plan(sh));
  std::vector<const ReplicaScheduler*> reps{&r0, &r1, &r2};
  std::size_t rr = 0;
  RouterPolicy p{"prefix-affinity", 2.0, 100};
  CHECK(route_request(p, reps, 0, 3, rr, b.data(), 4) == 1);
  // r1's outstanding tokens (120 to prefill + 50 to generate = 170) vs the idle replicas'
  // 0: within 2 x (0 + 100). With no slack the cap is 0: least-loaded (r0).
  RouterPolicy tight{"prefix-affinity", 2.0, 0};
  CHECK(route_request(tight, reps, 0, 3, rr, b.data(), 4) == 0);
  // Without keys, or with least-loaded: the least-loaded replica, ties to the lowest.
  CHECK(route_request(p, reps, 0, 3, rr, nullptr, 0) == 0);
  RouterPolicy ll{"least-loaded", 2.0, 100};
  CHECK(route_request(ll, reps, 0, 3, rr, b.data(), 4) == 0);
  RouterPolicy robin{"round-robin", 2.0, 100};
  rr = 0;
  CHECK(route_request(robin, reps, 0, 3, rr, b.data(), 4) == 0);
  CHECK(route_request(robin, reps, 0, 3, rr, b.data(), 4) == 1);
}

TEST_CASE("shared-prefix generator: a group's requests share the prefix blocks, no others", "[prefix][trace]") {
  SyntheticSpec s;
  s.count = 200;
  s.arrival = "at-once";
  s.prompt.value = 100;
  s.output.value = 1;
  s.prefix_tokens = 64;
  s.prefix_groups = 3;
  s.prefix_block = 16;
  PrefixKeys keys;
  auto reqs = generate_requests(s, 7, &keys);
  std::set<std::uint64_t> firsts, others;
  for (const auto& r : reqs) {
    CHECK(r.prompt_tokens == 164);
    REQUIRE(r.key_count == 11);  // ceil(164 / 16)
    firsts.insert(keys.of(r)[3]);  // the 4th block: the last of the 64-token prefix
    for (std::uint32_t b = 4; b < r.key_count; ++b) others.insert(keys.of(r)[b]);
  }
  CHECK(firsts.size() == 3);          // one prefix per group
  CHECK(others.size() == 200 * 7u);   // every block after the prefix is the request's own
  // The same seed without shared_prefix keeps the arrivals and the own-token counts.
  SyntheticSpec plain = s;
  plain.prefix_tokens = 0;
  auto p = generate_requests(plain, 7);
  CHECK(p[5].prompt_tokens + 64 == reqs[5].prompt_tokens);
}

}  // namespace test_prefix_cache
