// Flow-level network: transfer timing, link sharing, max-min fairness, phase fast path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sim/net/flow_net.h"
#include "sim/net/runner.h"
#include "test_network_fixtures.h"

namespace test_network {

using namespace llmsim;

namespace {

// Runs point-to-point transfers started together; returns each completion time (s).
std::vector<double> run_transfers(const Topology& t, const std::vector<std::pair<int, int>>& pairs,
                                  const std::vector<double>& bytes, FlowNet::Stats* st = nullptr) {
  EventQueue q;
  Recorder rec;
  FlowNet net(t, q, rec);
  std::vector<double> done(pairs.size(), -1);
  for (size_t i = 0; i < pairs.size(); ++i)
    net.transfer(pairs[i].first, pairs[i].second, bytes[i], [&, i] { done[i] = to_seconds(q.now()); });
  q.run();
  if (st) *st = net.stats();
  return done;
}

}  // namespace

TEST_CASE("network: a lone transfer takes latency + size / bandwidth", "[network]") {
  TopologyFixture f(ring_yaml(4, "100 GB/s", "2 us"));
  auto t = run_transfers(f.topo, {{0, 1}}, {1e9});
  CHECK(t[0] == Approx(2e-6 + 1e9 / 100e9).epsilon(1e-9));
  // Two hops on the ring: both latencies, cut-through (no max_payload => no fill).
  auto t2 = run_transfers(f.topo, {{0, 2}}, {1e9});
  CHECK(t2[0] == Approx(4e-6 + 1e9 / 100e9).epsilon(1e-9));
}

TEST_CASE("network: store-and-forward chunks add one chunk per extra hop", "[network]") {
  TopologyFixture f(ring_yaml(4, "100 GB/s", "0 us", "max_payload: 1 MiB"));
  auto t = run_transfers(f.topo, {{0, 2}}, {64.0 * 1024 * 1024});
  // 64 MiB through 2 hops in 1 MiB chunks: drain 64 MiB + 1 MiB pipeline fill.
  CHECK(t[0] == Approx(65.0 * 1024 * 1024 / 100e9).epsilon(1e-9));
}

TEST_CASE("network: two equal flows sharing one link each take twice as long", "[network]") {
  TopologyFixture f(dgx_yaml());
  const double S = 1024.0 * 1024 * 1024;
  double alone = run_transfers(f.topo, {{0, 2}}, {S})[0];
  auto both = run_transfers(f.topo, {{0, 2}, {1, 2}}, {S, S});  // share the switch->gpu2 port
  CHECK(both[0] == Approx(2 * alone).epsilon(0.01));
  CHECK(both[1] == Approx(2 * alone).epsilon(0.01));
  // Disjoint destinations do not interfere.
  auto apart = run_transfers(f.topo, {{0, 2}, {1, 3}}, {S, S});
  CHECK(apart[0] == Approx(alone).epsilon(1e-9));
}

TEST_CASE("network: max-min fair rates on a 3-flow chain", "[network]") {
  // gpu0 -(10 GB/s)- gpu1 -(20 GB/s)- gpu2, no latency.
  // f1: 0->1 (0.5 GB), f2: 0->2 (1 GB), f3: 1->2 (1 GB).
  // Max-min: link 0->1 splits 10 between f1, f2 (5 each); link 1->2 gives f3 the rest, 15.
  // f3 ends at 1/15 s (f2 stays capped at 5 by link 0->1); f1 ends at 0.5/5 = 0.1 s;
  // then f2 (0.5 GB left) runs alone at 10 GB/s: ends at 0.15 s.
  TopologyFixture f(chain_yaml());
  auto t = run_transfers(f.topo, {{0, 1}, {0, 2}, {1, 2}}, {0.5e9, 1e9, 1e9});
  CHECK(t[2] == Approx(1.0 / 15).epsilon(1e-6));
  CHECK(t[0] == Approx(0.1).epsilon(1e-6));
  CHECK(t[1] == Approx(0.15).epsilon(1e-6));
}

TEST_CASE("network: rates seen mid-flight follow progressive filling", "[network]") {
  TopologyFixture f(chain_yaml());
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  for (auto pr : std::vector<std::pair<int, int>>{{0, 1}, {0, 2}, {1, 2}}) net.transfer(pr.first, pr.second, 1e9, [] {});
  q.run(to_simtime(0.01));
  const Route& r01 = f.topo.route(0, 1);
  const Route& r12 = f.topo.route(1, 2);
  CHECK(net.link_load(r01.hops[0]) == Approx(10e9));  // 5 + 5
  CHECK(net.link_load(r12.hops[0]) == Approx(20e9));  // 5 + 15
  CHECK(net.active_flows() == 3);
}

TEST_CASE("network: phase fast path gives exactly the per-flow results", "[network]") {
  const double S = 256.0 * 1024 * 1024;
  SECTION("ring all-reduce on a ring") {
    TopologyFixture f(ring_yaml(8, "100 GB/s", "1 us"));
    std::vector<int> g{0, 1, 2, 3, 4, 5, 6, 7};
    FlowNet::Stats fast, slow;
    auto a = run_collective(f.topo, CollectiveKind::AllReduce, g, S, "ring", true, 0, &fast);
    auto b = run_collective(f.topo, CollectiveKind::AllReduce, g, S, "ring", false, 0, &slow);
    CHECK(a.time == b.time);  // identical picoseconds
    CHECK(fast.fast_phases == 14);
    CHECK(fast.flows == 0);
    CHECK(slow.fast_phases == 0);
    CHECK(slow.flows == 14 * 8);
  }
  SECTION("torus all-reduce") {
    TopologyFixture f(torus_yaml(4, 4, 2));
    std::vector<int> g;
    for (int i = 0; i < 32; ++i) g.push_back(i);
    auto a = run_collective(f.topo, CollectiveKind::AllReduce, g, S, "torus", true);
    auto b = run_collective(f.topo, CollectiveKind::AllReduce, g, S, "torus", false);
    CHECK(a.time == b.time);
  }
  SECTION("contended: a ring through shared links falls back per flow") {
    // Ring order 0, 2, 4, ..., 1, 3, ... on a 66-ring: neighbours two hops apart share links,
    // so no phase is disjoint. (Up to 64 members the ring algorithm re-orders a group along
    // a switchless fabric, which would make the pairs one hop; above that it keeps the order.)
    TopologyFixture f(ring_yaml(66, "100 GB/s", "1 us"));
    std::vector<int> g;
    for (int i = 0; i < 66; i += 2) g.push_back(i);
    for (int i = 1; i < 66; i += 2) g.push_back(i);
    FlowNet::Stats fast, slow;
    auto a = run_collective(f.topo, CollectiveKind::AllReduce, g, S, "ring", true, 0, &fast);
    auto b = run_collective(f.topo, CollectiveKind::AllReduce, g, S, "ring", false, 0, &slow);
    CHECK(a.time == Approx(b.time).epsilon(1e-12));
    CHECK(fast.slow_phases == 2 * 65);
  }
}

TEST_CASE("network: a transfer arriving on a fast phase's link demotes it exactly", "[network]") {
  // A ring all-gather runs on the fast path; a point-to-point transfer joins one of its
  // links mid-phase. Results must match the all-per-flow run to the picosecond scale.
  TopologyFixture f(ring_yaml(4, "100 GB/s", "1 us"));
  const double S = 64.0 * 1024 * 1024;
  auto run = [&](bool fast, FlowNet::Stats* st) {
    EventQueue q;
    Recorder rec;
    FlowNet net(f.topo, q, rec);
    net.set_fast_path(fast);
    CollectiveRunner runner(f.topo, q, rec, net);
    double coll = -1, p2p = -1;
    runner.collective(CollectiveKind::AllGather, {0, 1, 2, 3}, S, "ring",
                      [&](const CollectiveResult& r) { coll = r.time; });
    q.at(to_simtime(50e-6), [&] { net.transfer(0, 1, 8e6, [&] { p2p = to_seconds(q.now()); }); });
    q.run();
    *st = net.stats();
    return std::make_pair(coll, p2p);
  };
  FlowNet::Stats sf, ss;
  auto a = run(true, &sf);
  auto b = run(false, &ss);
  CHECK(sf.demotions == 1);
  CHECK(a.first == Approx(b.first).epsilon(1e-9));
  CHECK(a.second == Approx(b.second).epsilon(1e-9));
  // The shared link slowed the collective: it lost bandwidth for the 8 MB transfer.
  double alone = run_collective(f.topo, CollectiveKind::AllGather, {0, 1, 2, 3}, S, "ring").time;
  CHECK(a.first > alone * 1.01);
}

TEST_CASE("network: results do not depend on same-time event order", "[network]") {
  // Contended traffic (two collectives sharing links plus point-to-point transfers), with
  // same-time events shuffled by the debug seed: every completion time must be identical.
  TopologyFixture f(ring_yaml(8, "100 GB/s", "1 us"));
  auto run = [&](std::uint64_t seed) {
    EventQueue q;
    q.set_tie_shuffle(seed);
    Recorder rec;
    FlowNet net(f.topo, q, rec);
    CollectiveRunner runner(f.topo, q, rec, net);
    std::vector<SimTime> t;
    runner.collective(CollectiveKind::AllReduce, {0, 1, 2, 3, 4, 5, 6, 7}, 64e6, "ring",
                      [&](const CollectiveResult&) { t.push_back(q.now()); });
    runner.collective(CollectiveKind::AllGather, {0, 2, 4, 6}, 32e6, "ring",
                      [&](const CollectiveResult&) { t.push_back(q.now()); });
    for (int i = 0; i < 8; ++i) net.transfer(i, (i + 3) % 8, 4e6 * (1 + i % 3), [&] { t.push_back(q.now()); });
    q.run();
    std::sort(t.begin(), t.end());
    return t;
  };
  auto base = run(0);
  REQUIRE(base.size() == 10);
  CHECK(run(3) == base);
  CHECK(run(11) == base);
}

namespace {
// Records what the network sends to a timeline.
struct CaptureSink : TraceSink {
  std::vector<std::pair<std::string, std::string>> tracks;
  struct Span {
    int track;
    std::string name, cat;
    SimTime begin, end;
  };
  std::vector<Span> spans;
  std::vector<std::pair<int, double>> counters;
  std::vector<SimTime> counter_times;
  int track(const std::string& p, const std::string& t, int) override {
    tracks.emplace_back(p, t);
    return static_cast<int>(tracks.size()) - 1;
  }
  void span(int tr, const std::string& n, const char* c, SimTime b, SimTime e, const std::string&) override {
    spans.push_back({tr, n, c, b, e});
  }
  void async_span(const std::string&, const char*, std::uint64_t, SimTime, SimTime) override {}
  void counter(int tr, const std::string&, SimTime t, double v) override {
    counters.emplace_back(tr, v);
    counter_times.push_back(t);
  }
  void flow(int, SimTime, int, SimTime, std::uint64_t) override {}
  void finish(bool) override {}
};
}  // namespace

TEST_CASE("network: collectives requested at one instant start alike in any event order", "[network]") {
  // Two rings sharing links, each started by its own event at the same instant: which one
  // holds the links on the fast path (the other demoting it) must not follow the events'
  // order, or the statistics, the event count and the links' utilisation points change
  // under --debug-tie-shuffle (a simulate-fuzz finding: a reduce-scatter and an all-reduce
  // after one send).
  TopologyFixture f(ring_yaml(8, "100 GB/s", "1 us"));
  struct Outcome {
    std::vector<SimTime> done;
    std::uint64_t events, flows, fast, slow, demotions;
    std::vector<std::pair<int, double>> counters;
    std::vector<SimTime> counter_times;
  };
  auto run = [&](std::uint64_t seed) {
    EventQueue q;
    q.set_tie_shuffle(seed);
    Recorder rec;
    auto sink = std::make_unique<CaptureSink>();
    CaptureSink* cap = sink.get();
    rec.add(std::move(sink));
    FlowNet net(f.topo, q, rec);
    CollectiveRunner runner(f.topo, q, rec, net);
    Outcome o;
    auto note = [&](const CollectiveResult&) { o.done.push_back(q.now()); };
    q.at(to_simtime(1e-6), [&] {
      runner.collective(CollectiveKind::AllGather, {0, 1, 2, 3, 4, 5, 6, 7}, 8e6, "ring", note);
    });
    q.at(to_simtime(1e-6), [&] { runner.collective(CollectiveKind::AllGather, {0, 2, 4, 6}, 4e6, "ring", note); });
    q.run();
    const FlowNet::Stats& st = net.stats();
    o.events = q.events_run();
    o.flows = st.flows;
    o.fast = st.fast_phases;
    o.slow = st.slow_phases;
    o.demotions = st.demotions;
    o.counters = cap->counters;
    o.counter_times = cap->counter_times;
    return o;
  };
  const Outcome base = run(0);
  REQUIRE(base.done.size() == 2);
  CHECK(base.demotions > 0);  // the two did contend
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const Outcome o = run(seed);
    CHECK(o.done == base.done);
    CHECK(o.events == base.events);
    CHECK(o.flows == base.flows);
    CHECK(o.fast == base.fast);
    CHECK(o.slow == base.slow);
    CHECK(o.demotions == base.demotions);
    CHECK(o.counters == base.counters);
    CHECK(o.counter_times == base.counter_times);
  }
}

TEST_CASE("network: timeline has a span per transfer per link direction and collective phases", "[network]") {
  TopologyFixture f(ring_yaml(4, "100 GB/s", "1 us"));
  for (bool fast : {true, false}) {
    EventQueue q;
    Recorder rec;
    auto sink = std::make_unique<CaptureSink>();
    CaptureSink* cap = sink.get();
    rec.add(std::move(sink));
    FlowNet net(f.topo, q, rec);
    net.set_fast_path(fast);
    CollectiveRunner runner(f.topo, q, rec, net);
    runner.collective(CollectiveKind::AllGather, {0, 1, 2, 3}, 4e6, "ring", [](const CollectiveResult&) {});
    q.run();
    int net_spans = 0, coll_spans = 0;
    for (const auto& s : cap->spans) {
      if (s.cat == "net") {
        ++net_spans;
        CHECK(cap->tracks[static_cast<size_t>(s.track)].first == "r");  // the link's fabric module
        // 1 MB per step at 100 GB/s after 1 us latency.
        CHECK(s.end - s.begin == to_simtime(1e-6) + to_simtime(1e6 / 100e9));
      }
      if (s.cat == "collective") {
        ++coll_spans;
        CHECK(s.name == "allgather ring");
      }
    }
    CHECK(net_spans == 3 * 4);   // 3 steps x 4 one-hop transfers
    CHECK(coll_spans == 4);      // one stage, shown on each member
    // Link utilisation goes 1 while a step moves data and back to 0 at the end.
    REQUIRE(!cap->counters.empty());
    CHECK(cap->counters.back().second == 0);
    bool saw_full = false;
    for (auto& c : cap->counters) saw_full = saw_full || c.second == 1;
    CHECK(saw_full);
  }
}

TEST_CASE("network: huge contended phases run in bulk by their most loaded link", "[network]") {
  TopologyFixture f(dgx_yaml());
  std::vector<int> g{0, 1, 2, 3, 4, 5, 6, 7};
  auto run = [&](std::size_t max_exact, FlowNet::Stats* st, bool fast = true) {
    EventQueue q;
    Recorder rec;
    FlowNet net(f.topo, q, rec);
    net.set_max_exact_flows(max_exact);
    net.set_fast_path(fast);
    CollectiveRunner runner(f.topo, q, rec, net);
    double t = -1;
    runner.collective(CollectiveKind::AllToAll, g, 1e9, "direct", [&](const CollectiveResult& r) { t = r.time; });
    q.run();
    *st = net.stats();
    return t;
  };
  FlowNet::Stats exact_st, bulk_st, uniform_st;
  double exact = run(kMaxExactFlows, &exact_st, false);  // per flow
  double bulk = run(10, &bulk_st);  // 56 transfers > 10: bulk
  CHECK(exact_st.bulk_phases == 0);
  CHECK(exact_st.slow_phases == 1);
  CHECK(bulk_st.bulk_phases == 1);
  CHECK(bulk_st.flows == 0);
  // Behind one switch every port carries 7 x S/8: bulk is exact here.
  CHECK(exact == Approx(2e-6 + 7 * 1e9 / 8 / 450e9).epsilon(1e-9));
  CHECK(bulk == Approx(exact).epsilon(1e-9));
  // Being exact by construction (one timing class, every port equally loaded and equally
  // fast: Pattern::uniform), it runs in bulk below the size limit too.
  double uniform = run(kMaxExactFlows, &uniform_st);
  CHECK(uniform_st.bulk_phases == 1);
  CHECK(uniform_st.flows == 0);
  CHECK(uniform == Approx(exact).epsilon(1e-9));
  // Two sends from one GPU load its port twice and each receiver's once: not uniform (a
  // max-min run there is not one formula), so it stays per flow.
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  Pattern fan, all;
  fan.pairs = {{0, 1}, {0, 2}};
  for (int a : g)
    for (int b : g)
      if (a != b) all.pairs.push_back({a, b});
  net.resolve(fan);
  net.resolve(all);
  CHECK_FALSE(fan.uniform);
  CHECK(all.uniform);
}

}  // namespace test_network
