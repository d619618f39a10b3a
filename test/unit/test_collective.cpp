// Collective algorithms against their analytical costs and the calibration targets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/net/collective.h"
#include "sim/net/runner.h"
#include "test_network_fixtures.h"

namespace test_collective {

using namespace llmsim;

namespace {
constexpr double MiB = 1024.0 * 1024;
constexpr double GiB = 1024.0 * MiB;

}  // namespace

TEST_CASE("collective: ring all-reduce matches 2(n-1)(a + S/(nB)) and busbw -> B", "[network]") {
  const int n = 8;
  const double B = 100e9, a = 1e-6;
  TopologyFixture f(ring_yaml(n, "100 GB/s", "1 us"));
  for (double S : {64 * MiB, 1 * GiB}) {
    auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(n), S, "ring");
    CHECK(r.algorithm == "ring");
    CHECK(r.time == Approx(2.0 * (n - 1) * (a + S / (n * B))).epsilon(0.02));
    CHECK(r.busbw == Approx(B).epsilon(0.02));
    CHECK(r.algbw == Approx(S / r.time).epsilon(1e-12));
  }
  // All-gather and reduce-scatter take half the steps: busbw also -> B.
  auto ag = run_collective(f.topo, CollectiveKind::AllGather, iota(n), 1 * GiB, "ring");
  CHECK(ag.busbw == Approx(B).epsilon(0.02));
  auto bc = run_collective(f.topo, CollectiveKind::Broadcast, iota(n), 1 * GiB, "ring");
  CHECK(bc.busbw == Approx(B).epsilon(0.05));  // pipelined chain: fill of n-2 chunks
}

TEST_CASE("collective: 3-D torus all-reduce uses every dimension and beats one ring", "[network]") {
  TopologyFixture f(torus_yaml(4, 4, 4));
  const double S = 1 * GiB, B = 100e9;
  auto t = run_collective(f.topo, CollectiveKind::AllReduce, iota(64), S, "auto");
  CHECK(t.algorithm == "torus");
  REQUIRE(t.dims.size() == 3);
  for (const auto& d : t.dims) {
    INFO(d.label);
    CHECK(d.time > 0);
    // Each dimension's rings run both directions: busbw of that dimension -> 2 B.
    CHECK(d.busbw == Approx(2 * B).epsilon(0.05));
  }
  auto ring = run_collective(f.topo, CollectiveKind::AllReduce, iota(64), S, "ring");
  CHECK(t.time < ring.time / 2);
  CHECK(ring.busbw <= B * 1.001);
  // Analytical: sum over dims of 2 (k-1)/k x shard / (2 B) with shards S, S/4, S/16.
  double expect = 0;
  for (double shard : {S, S / 4, S / 16}) expect += 2 * 0.75 * shard / (2 * B);
  CHECK(t.time == Approx(expect).epsilon(0.02));
}

TEST_CASE("collective: DGX H100 all-reduce busbw reproduces C3 with NVLS", "[network]") {
  TopologyFixture f(dgx_yaml());
  auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), 8 * GiB, "auto");
  CHECK(r.algorithm == "in-switch");
  // CALIBRATION.md C3: 478.9 GB/s at 8 GB with NVLS.
  CHECK(r.busbw >= 350e9);
  CHECK(r.busbw <= 480e9);
  CHECK(r.busbw == Approx(478.9e9).epsilon(0.02));
  // Without NVLS, the ring is bounded by the 450 GB/s port.
  auto ring = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), 8 * GiB, "ring");
  CHECK(ring.busbw == Approx(450e9).epsilon(0.01));
}

TEST_CASE("collective: hierarchical all-reduce on a 32-node SuperPOD slice is rail bound", "[network]") {
  TopologyFixture f(superpod_yaml(32));
  REQUIRE(f.topo.num_devices() == 256);
  const double S = 1 * GiB;
  auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(256), S, "auto");
  CHECK(r.algorithm == "hierarchical");
  REQUIRE(r.dims.size() == 2);
  const auto& inter = r.dims[1];
  CHECK(inter.label == "inter");
  // 8 rails x 400 Gb/s: each rail ring carries S/8 at 50 GB/s per direction.
  const double rail = 400e9 / 8;
  CHECK(inter.busbw <= rail * 1.001);
  CHECK(inter.busbw >= rail * 0.8);
  // Lock-step ring on each rail: 2(N-1) steps of S/(8N), cut into 4 pipeline lanes (4 MiB
  // per step allows 4 lanes of >= 1 MiB), each step paying the slowest rail route's
  // latency (cross-unit pairs climb to the spines). Time is summed over lanes.
  double lat = 0;
  for (int j = 0; j < 8; ++j)
    for (int k = 0; k < 32; ++k) lat = std::max(lat, f.topo.route(k * 8 + j, ((k + 1) % 32) * 8 + j).latency.value());
  CHECK(inter.time == Approx(2 * 31 * (4 * lat + S / 8 / 32 / rail)).epsilon(1e-4));
  // NVLink phases: ring reduce-scatter + all-gather inside each DGX at up to 450 GB/s
  // (lanes in the two NVLink stages share the ports at times).
  CHECK(r.dims[0].label == "intra");
  CHECK(r.dims[0].busbw <= 450e9 * 1.001);
  CHECK(r.dims[0].busbw >= 400e9);
  // The lanes overlap NVLink and rail work: faster than the phases one after another,
  // bounded below by the rails.
  CHECK(r.time < 0.8 * (r.dims[0].time + inter.time));
  CHECK(r.time > inter.time);
  // Without lanes (a 1-lane pipeline is the plain sequence) the phases add up.
  auto small = run_collective(f.topo, CollectiveKind::AllReduce, iota(256), 64 * MiB, "hierarchical");
  REQUIRE(small.dims.size() == 2);
  CHECK(small.time == Approx(small.dims[0].time + small.dims[1].time).epsilon(1e-9));
}

TEST_CASE("collective: algorithms agree with their step counts", "[network]") {
  TopologyFixture f(ring_yaml(8, "100 GB/s", "1 us"));
  const double B = 100e9, a = 1e-6;
  SECTION("halving-doubling: log2(n) exchanges each way") {
    // Behind one switch every exchange is 2 hops (2 us): 6 rounds moving S/2, S/4, S/8
    // and back, against the ring's 14 steps of S/8.
    TopologyFixture d(dgx_yaml());
    const double S = 8 * 1024, Bs = 450e9;
    auto hd = run_collective(d.topo, CollectiveKind::AllReduce, iota(8), S, "halving-doubling");
    auto ring = run_collective(d.topo, CollectiveKind::AllReduce, iota(8), S, "ring");
    CHECK(hd.time == Approx(6 * 2e-6 + 2 * (S / 2 + S / 4 + S / 8) / Bs).epsilon(1e-6));
    CHECK(ring.time == Approx(14 * (2e-6 + S / 8 / Bs)).epsilon(1e-6));
    auto on_ring = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "ring");
    CHECK(on_ring.time == Approx(14 * (a + S / 8 / B)).epsilon(1e-6));
  }
  SECTION("double binary tree streams through 2 x depth hops") {
    TopologyFixture d(dgx_yaml());
    auto tree = run_collective(d.topo, CollectiveKind::AllReduce, iota(8), 64 * 1024, "tree");
    auto ring = run_collective(d.topo, CollectiveKind::AllReduce, iota(8), 64 * 1024, "ring");
    CHECK(tree.time < ring.time);  // 6 fill hops of latency instead of 14 steps
    CHECK(tree.time > 6 * 2e-6);
  }
  SECTION("direct all-to-all on a fully-connected mesh: one step of S/n per pair") {
    TopologyFixture m("name: m\ndevice: amd-mi300x\ncount: 8\nfabrics:\n"
                      "  - {name: xgmi, type: p2p, shape: fully-connected, link: {bandwidth: 64 GB/s, latency: 1 us}}\n");
    auto r = run_collective(m.topo, CollectiveKind::AllToAll, iota(8), 1 * GiB, "auto");
    CHECK(r.algorithm == "direct");
    CHECK(r.time == Approx(1e-6 + GiB / 8 / 64e9).epsilon(1e-6));
    CHECK(r.busbw == Approx(7.0 / 8 * GiB / r.time).epsilon(1e-9));
    // All-reduce on the mesh: auto goes one-shot, using all 7 links of each GPU:
    // 2 x (a + S/8 / 64 GB/s), busbw -> 7 x 64 GB/s, against 64 GB/s for a ring.
    auto ar = run_collective(m.topo, CollectiveKind::AllReduce, iota(8), 1 * GiB, "auto");
    CHECK(ar.algorithm == "direct");
    CHECK(ar.time == Approx(2 * (1e-6 + GiB / 8 / 64e9)).epsilon(1e-6));
    CHECK(ar.busbw == Approx(7 * 64e9).epsilon(0.01));
    auto ring = run_collective(m.topo, CollectiveKind::AllReduce, iota(8), 1 * GiB, "ring");
    CHECK(ring.busbw == Approx(64e9).epsilon(0.01));
  }
}

TEST_CASE("collective: bad requests are errors, partitions are infeasible", "[network]") {
  TopologyFixture ring(ring_yaml(4, "100 GB/s", "1 us"));
  CollectiveRequest req{CollectiveKind::AllReduce, {0, 1, 2, 3}, 1e6, 0};
  CHECK(collective_unsupported(ring.topo, req, "in-switch").find("no switch with in-network reduction") !=
        std::string::npos);
  CHECK(collective_unsupported(ring.topo, req, "bogus").find("unknown algorithm 'bogus'") != std::string::npos);
  CHECK(collective_unsupported(ring.topo, req, "torus").find("not a torus") != std::string::npos);
  CHECK(collective_unsupported(ring.topo, {CollectiveKind::AllReduce, {0, 9}, 1e6, 0}, "ring").find("device index 9") !=
        std::string::npos);
  CHECK(collective_unsupported(ring.topo, {CollectiveKind::AllReduce, {0, 1, 2}, 1e6, 0}, "halving-doubling")
            .find("power-of-two") != std::string::npos);
  CHECK_THROWS_AS(run_collective(ring.topo, CollectiveKind::AllReduce, {0, 1}, 0, "ring"), InputError);
  CHECK_THROWS_AS(run_collective(ring.topo, CollectiveKind::AllReduce, {0, 1}, -5, "ring"), InputError);
  CHECK_THROWS_AS(run_collective(ring.topo, CollectiveKind::AllReduce, {0, 1}, 1e6, "in-switch"), InputError);

  // One-shot all-to-all over a huge group would need n^2 routes: refused up front, also
  // when `auto` is what picked it.
  TopologyFixture big(ring_yaml(1100, "100 GB/s", "1 us"));
  CollectiveRequest a2a{CollectiveKind::AllToAll, iota(1100), 1e9, 0};
  CHECK(collective_unsupported(big.topo, a2a, "auto").find("at most 1024 ranks") != std::string::npos);
  CHECK(collective_unsupported(big.topo, {CollectiveKind::AllReduce, iota(1100), 1e9, 0}, "auto").empty());

  // Two islands (built by hand: the loader refuses disconnected files).
  Topology t;
  t.name = "islands";
  for (int i = 0; i < 4; ++i) {
    VertexInfo v;
    v.name = "gpu" + std::to_string(i);
    v.device = i;
    t.add_vertex(v);
    t.device_chip.push_back(nullptr);
  }
  LinkInfo l;
  l.params.bandwidth = 1e9;
  l.a = 0, l.b = 1;
  t.add_link(l);
  l.a = 2, l.b = 3;
  t.add_link(l);
  try {
    check_connected(t, {0, 1, 2, 3});
    FAIL("no InfeasibleError");
  } catch (const InfeasibleError& e) {
    std::string m = e.what();
    CHECK(m.find("{gpu0, gpu1} cannot reach {gpu2, gpu3}") != std::string::npos);
  }
  CHECK_NOTHROW(check_connected(t, {2, 3}));
}

TEST_CASE("collective: concurrent collectives contend, repeated ones reuse their plan", "[network]") {
  TopologyFixture f(ring_yaml(8, "100 GB/s", "1 us"));
  const double S = 256 * MiB;
  double alone = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "ring").time;
  auto both = [&](bool fast) {
    EventQueue q;
    Recorder rec;
    FlowNet net(f.topo, q, rec);
    net.set_fast_path(fast);
    CollectiveRunner runner(f.topo, q, rec, net);
    std::vector<double> t;
    for (int i = 0; i < 2; ++i)
      runner.collective(CollectiveKind::AllReduce, iota(8), S, "ring", [&](const CollectiveResult& r) { t.push_back(r.time); });
    q.run();
    return t;
  };
  auto a = both(true), b = both(false);
  REQUIRE(a.size() == 2);
  REQUIRE(b.size() == 2);
  // Same links, same steps: each gets half of every link, so both take ~2x.
  CHECK(a[0] == Approx(2 * alone).epsilon(0.01));
  CHECK(a[1] == Approx(2 * alone).epsilon(0.01));
  CHECK(a[0] == Approx(b[0]).epsilon(1e-9));
  CHECK(a[1] == Approx(b[1]).epsilon(1e-9));

  // 1,000 back-to-back identical calls (a training loop): plan and routes made once.
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  CollectiveRunner runner(f.topo, q, rec, net);
  int left = 1000;
  std::function<void(const CollectiveResult&)> again = [&](const CollectiveResult&) {
    if (--left > 0) runner.collective(CollectiveKind::AllReduce, iota(8), 1 * MiB, "auto", again);
  };
  runner.collective(CollectiveKind::AllReduce, iota(8), 1 * MiB, "auto", again);
  q.run();
  CHECK(left == 0);
  double one = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), 1 * MiB, "auto").time;
  CHECK(to_seconds(q.now()) == Approx(1000 * one).epsilon(1e-6));
  CHECK(net.stats().fast_phases == 1000u * 14);
}

}  // namespace test_collective
