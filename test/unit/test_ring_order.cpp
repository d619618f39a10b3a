// Rings laid along the fabric (sim/net/algorithms/ring.cpp): on a mesh of direct links
// without wraparound the ring all-reduce visits the chips around the mesh, so every step is
// one hop; switched fabrics and rings already one hop apart keep the group's order.
// Expected times are the ring's closed form, 2 (n - 1) steps of (hop latency + S / n /
// link bandwidth).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "sim/net/collective.h"
#include "sim/net/runner.h"
#include "test_network_fixtures.h"

namespace test_ring_order {

using namespace llmsim;

TEST_CASE("ring order: a 2 x 4 mesh without wraparound rings along one-hop links", "[network]") {
  // The T3000: 8 Wormhole chips, 400 Gb/s = 50 GB/s and 2 us per mesh link.
  TopologyFixture f(source_text("topologies/wormhole-t3000.yaml"), "topologies/wormhole-t3000.yaml");
  REQUIRE(f.topo.num_devices() == 8);
  const std::vector<int> group = iota(8);
  CollectiveRequest req{CollectiveKind::AllReduce, group, 64.0 * 1024 * 1024, 0};
  const Plan plan = plan_for(f.topo, req, "ring");
  REQUIRE(plan.stages.size() == 1);
  std::set<int> senders, receivers;
  for (const auto& [a, b] : plan.stages[0].pattern->pairs) {
    INFO(a << " -> " << b);
    CHECK(f.topo.route(a, b).hops.size() == 1);
    senders.insert(a);
    receivers.insert(b);
  }
  CHECK(senders.size() == 8);  // a ring: every chip sends once and receives once
  CHECK(receivers.size() == 8);
  // Group order would route 7 -> 0 over 4 hops and 1 -> 2 over 2 (device i = x + 2 y).
  CHECK(f.topo.route(7, 0).hops.size() == 4);
  const double B = 50e9, a = 2e-6;
  for (double S : {1.0 * 1024 * 1024, 64.0 * 1024 * 1024}) {
    INFO("size " << S);
    auto r = run_collective(f.topo, CollectiveKind::AllReduce, group, S, "ring");
    CHECK(r.time == Approx(14 * (a + S / 8 / B)).epsilon(0.05));
  }
}

TEST_CASE("ring order: a switched fabric and a ring fabric keep the group's order", "[network]") {
  for (const std::string& yaml : {dgx_yaml(), ring_yaml(8, "100 GB/s", "1 us")}) {
    TopologyFixture f(yaml);
    const std::vector<int> group = iota(8);
    CollectiveRequest req{CollectiveKind::AllReduce, group, 1 << 20, 0};
    const Plan plan = plan_for(f.topo, req, "ring");
    REQUIRE(plan.stages.size() == 1);
    const auto& pairs = plan.stages[0].pattern->pairs;
    REQUIRE(pairs.size() == 8);
    for (size_t i = 0; i < pairs.size(); ++i) {
      CHECK(pairs[i].first == group[i]);
      CHECK(pairs[i].second == group[(i + 1) % 8]);
    }
  }
}

TEST_CASE("ring order: a mesh line without wraparound folds its ring, two hops a step", "[network][tp2d]") {
  // A y-line of the 4 x 8 Galaxy mesh (device i = x + 4 y): 8 chips in a row of links, no
  // one-hop cycle. Folded (0 2 4 6 7 5 3 1 along the line) every step is at most 2 hops and
  // each directed link carries one flow, so a step costs 2 hop latencies + S / n / B; the
  // nearest-neighbour tour's closing route crossed 7 hops over links the others use.
  TopologyFixture f(source_text("topologies/wormhole-galaxy.yaml"), "topologies/wormhole-galaxy.yaml");
  std::vector<int> group;
  for (int y = 0; y < 8; ++y) group.push_back(1 + 4 * y);
  CollectiveRequest req{CollectiveKind::AllReduce, group, 64.0 * 1024 * 1024, 0};
  const Plan plan = plan_for(f.topo, req, "ring");
  REQUIRE(plan.stages.size() == 1);
  std::set<DirLink> used;
  size_t longest = 0;
  for (const auto& [a, b] : plan.stages[0].pattern->pairs) {
    const Route& r = f.topo.route(a, b);
    longest = std::max(longest, r.hops.size());
    for (DirLink hop : r.hops) CHECK(used.insert(hop).second);  // one flow a directed link
  }
  CHECK(plan.stages[0].pattern->pairs.size() == 8);
  CHECK(longest == 2);
  const double B = 50e9, a = 2e-6, S = 64.0 * 1024 * 1024;
  auto r = run_collective(f.topo, CollectiveKind::AllReduce, group, S, "ring");
  CHECK(r.time == Approx(14 * (2 * a + S / 8 / B)).epsilon(0.05));
}

}  // namespace test_ring_order
