// Link and switch statistics of the flow network (FlowNet::link_counters / switch_counters,
// sim/net/flow_stats.cpp): bytes, busy time, utilisation over the run and peak flows per
// link direction, bytes and busy time per switch. Expected numbers come from the transfer
// sizes, link bandwidths and latencies by hand, not from the model's own formulas.
#include <catch2/catch.hpp>

#include <functional>
#include <vector>

#include "sim/net/flow_net.h"
#include "sim/net/runner.h"
#include "test_network_fixtures.h"

namespace test_network_stats {

using namespace llmsim;

namespace {

DirLink dirlink(const Topology& t, int from, int to) {
  const int l = t.link_between(from, to);
  REQUIRE(l >= 0);
  return 2 * l + (t.links[static_cast<size_t>(l)].a == from ? 0 : 1);
}

int switch_vertex(const Topology& t) {
  for (size_t v = 0; v < t.vertices.size(); ++v)
    if (t.vertices[v].kind == VertexInfo::Kind::Switch) return static_cast<int>(v);
  return -1;
}

// Sum of every link direction's counters (bytes, busy) of a finished run.
struct Totals {
  double bytes = 0, busy = 0;
};
Totals totals(const Topology& t, FlowNet& net) {
  Totals s;
  for (size_t d = 0; d < 2 * t.links.size(); ++d) {
    FlowNet::LinkCounters c = net.link_counters(static_cast<DirLink>(d));
    s.bytes += c.bytes;
    s.busy += c.busy_s;
  }
  return s;
}

}  // namespace

TEST_CASE("link stats: one transfer of B bytes over a link of bandwidth W", "[network_stats]") {
  // ring4: 100 GB/s, 2 us. The bytes drain from L to L + B/W; the run ends then.
  const double W = 100e9, L = 2e-6, B = 1e9;
  TopologyFixture f(ring_yaml(4, "100 GB/s", "2 us"));
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  // Read when the transfer completes: the queue may run stale (cancelled) events later.
  FlowNet::LinkCounters c, back;
  double done = -1;
  net.transfer(0, 1, B, [&] {
    done = to_seconds(q.now());
    c = net.link_counters(dirlink(f.topo, 0, 1));
    back = net.link_counters(dirlink(f.topo, 1, 0));
  });
  q.run();
  const double end = L + B / W;
  REQUIRE(done == Approx(end).epsilon(1e-9));
  CHECK(c.bytes == Approx(B).epsilon(1e-9));
  CHECK(c.busy_s == Approx(B / W).epsilon(1e-9));  // latency is not busy time
  CHECK(c.peak_flows == 1);
  // Utilisation over the run: B over the capacity W x (L + B/W).
  CHECK(c.bytes / c.capacity_bytes == Approx(B / (W * end)).epsilon(1e-9));
  // The reverse direction and other links carried nothing.
  CHECK(back.bytes == 0);
  CHECK(back.busy_s == 0);
  CHECK(back.capacity_bytes == Approx(W * end).epsilon(1e-9));
}

TEST_CASE("link stats: two transfers sharing a link", "[network_stats]") {
  // Both start together; they share W until the smaller (B1) ends at L + 2 B1/W, then the
  // other drains alone: the link is busy (B1 + B2) / W in all, with two flows at peak.
  const double W = 100e9, L = 1e-6, B1 = 1e9, B2 = 3e9;
  TopologyFixture f(ring_yaml(4, "100 GB/s", "1 us"));
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  FlowNet::LinkCounters c;
  double done = -1;
  net.transfer(0, 1, B1, [] {});
  net.transfer(0, 1, B2, [&] {
    done = to_seconds(q.now());
    c = net.link_counters(dirlink(f.topo, 0, 1));
  });
  q.run();
  REQUIRE(done == Approx(L + (B1 + B2) / W).epsilon(1e-9));
  CHECK(c.bytes == Approx(B1 + B2).epsilon(1e-9));
  CHECK(c.busy_s == Approx((B1 + B2) / W).epsilon(1e-9));
  CHECK(c.peak_flows == 2);
  CHECK(c.bytes / c.capacity_bytes == Approx((B1 + B2) / (W * (L + (B1 + B2) / W))).epsilon(1e-9));
}

TEST_CASE("link stats: utilisation integrates a bandwidth halved mid-run", "[network_stats]") {
  // At t_mid the link drops to W/2: the capacity is W t_mid + (W/2)(end - t_mid).
  const double W = 100e9, L = 2e-6, B = 1e9;
  TopologyFixture f(ring_yaml(4, "100 GB/s", "2 us"));
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  FlowNet::LinkCounters c;
  double done = -1;
  net.transfer(0, 1, B, [&] {
    done = to_seconds(q.now());
    c = net.link_counters(dirlink(f.topo, 0, 1));
  });
  const double t_mid = L + B / W / 2;
  q.at(to_simtime(t_mid), [&] { net.set_link_bandwidth(0, 1, W / 2); });
  q.run();
  const double end = t_mid + (B / 2) / (W / 2);
  REQUIRE(done == Approx(end).epsilon(1e-9));
  CHECK(c.bytes == Approx(B).epsilon(1e-9));
  CHECK(c.busy_s == Approx(end - L).epsilon(1e-9));
  CHECK(c.capacity_bytes == Approx(W * t_mid + W / 2 * (end - t_mid)).epsilon(1e-9));
}

TEST_CASE("link stats: a rerouted transfer's bytes split between its old and new paths", "[network_stats]") {
  // gpu0 -> gpu1 on a 4-ring; gpu0-gpu1 goes down when half the bytes have crossed, the rest
  // goes round the other way, over three links.
  const double W = 100e9, L = 1e-6, B = 1e9;
  TopologyFixture f(ring_yaml(4, "100 GB/s", "1 us"));
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  FlowNet::LinkCounters reverse;
  net.transfer(0, 1, B, [&] { reverse = net.link_counters(dirlink(f.topo, 1, 0)); });
  q.at(to_simtime(L + B / W / 2), [&] { net.set_link_up(0, 1, false); });
  q.run();
  CHECK(net.link_counters(dirlink(f.topo, 0, 1)).bytes == Approx(B / 2).epsilon(1e-6));
  for (auto [a, b] : std::vector<std::pair<int, int>>{{0, 3}, {3, 2}, {2, 1}})
    CHECK(net.link_counters(dirlink(f.topo, a, b)).bytes == Approx(B / 2).epsilon(1e-6));
  // While down, a link offers no capacity: gpu0-gpu1 offered W only until the cut.
  CHECK(reverse.capacity_bytes == Approx(W * (L + B / W / 2)).epsilon(1e-9));
}

TEST_CASE("switch stats: a switch's bytes are the bytes through it", "[network_stats]") {
  // dgx: 8 GPUs, one NVSwitch, 450 GB/s links. gpu0 -> gpu1 (B) and gpu2 -> gpu3 (C) cross
  // the switch on disjoint links, at the same time, each at the full link rate.
  const double W = 450e9, B = 2e9, C = 1e9;  // the route's bottleneck: both links at W
  TopologyFixture f(dgx_yaml());
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  const int sw = switch_vertex(f.topo);
  REQUIRE(sw >= 0);
  FlowNet::SwitchCounters s;
  net.transfer(0, 1, B, [&] { s = net.switch_counters(sw); });  // the later one (B > C)
  net.transfer(2, 3, C, [] {});
  q.run();
  CHECK(s.bytes == Approx(B + C).epsilon(1e-9));
  CHECK(s.busy_s == Approx(B / W).epsilon(1e-9));  // the union of both drains (same start)
  // Each byte crosses two links (in and out of the switch).
  CHECK(totals(f.topo, net).bytes == Approx(2 * (B + C)).epsilon(1e-9));
}

TEST_CASE("link stats: a ring all-reduce counts the same on the fast path and per flow", "[network_stats]") {
  // Ring all-reduce of S over n ranks: every rank sends 2(n-1) chunks of S/n one hop, so
  // the links carry 2(n-1) S in all, and each link carrying a chunk is busy (S/n)/W a step.
  const int n = 4;
  const double S = 64.0 * 1024 * 1024, W = 100e9;
  TopologyFixture f(ring_yaml(n, "100 GB/s", "1 us"));
  auto run = [&](bool fast, bool interfere) {
    EventQueue q;
    Recorder rec;
    FlowNet net(f.topo, q, rec);
    net.set_fast_path(fast);
    CollectiveRunner runner(f.topo, q, rec, net);
    std::vector<int> group{0, 1, 2, 3};
    Totals t;
    runner.collective(CollectiveKind::AllReduce, group, S, "ring", [&](const CollectiveResult&) { t = totals(f.topo, net); });
    // A transfer arriving mid-run demotes the fast phase holding its link.
    if (interfere) q.at(to_simtime(30e-6), [&] { net.transfer(0, 1, 1e6, [] {}); });
    q.run();
    return t;
  };
  Totals fast = run(true, false), slow = run(false, false);
  CHECK(fast.bytes == Approx(2.0 * (n - 1) * S).epsilon(1e-9));
  CHECK(slow.bytes == Approx(fast.bytes).epsilon(1e-9));
  CHECK(fast.busy == Approx(2.0 * (n - 1) * S / W).epsilon(1e-6));
  CHECK(slow.busy == Approx(fast.busy).epsilon(1e-6));
  Totals demoted = run(true, true);
  CHECK(demoted.bytes == Approx(2.0 * (n - 1) * S + 1e6).epsilon(1e-9));
}

}  // namespace test_network_stats
