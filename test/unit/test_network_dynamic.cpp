// Link state changing during a run (FlowNet::set_link_bandwidth / set_link_up, flow_state.cpp):
// flows re-rated at the instant of the change, fast phases demoted, flows rerouted around a
// link that goes down, partitions ending the run with exit 3, and the microbench `events:`
// list that drives it all through the binary. Every expected time is derived by hand.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "cli_support.h"
#include "sim/core/error.h"
#include "sim/net/flow_net.h"
#include "sim/net/runner.h"
#include "sim/engine/state_events.h"
#include "test_network_fixtures.h"

namespace test_network_dynamic {

using namespace llmsim;

namespace {

// One transfer src -> dst of `bytes`, with `change` applied to the net at `at` seconds;
// returns the completion time in seconds (-1 if it never completed).
double transfer_with_change(const Topology& t, int src, int dst, double bytes, double at,
                            const std::function<void(FlowNet&)>& change, bool* rerouted_ok = nullptr) {
  EventQueue q;
  Recorder rec;
  FlowNet net(t, q, rec);
  double done = -1;
  net.transfer(src, dst, bytes, [&] { done = to_seconds(q.now()); });
  if (change) q.at(to_simtime(at), [&] { change(net); });
  q.run();
  if (rerouted_ok) *rerouted_ok = net.active_flows() == 0;
  return done;
}

// A collective with `change` applied at `at` seconds (at < 0: before it starts).
double collective_with_change(const Topology& t, CollectiveKind kind, const std::string& algo, double bytes,
                              double at, const std::function<void(FlowNet&)>& change, bool fast = true) {
  EventQueue q;
  Recorder rec;
  FlowNet net(t, q, rec);
  net.set_fast_path(fast);
  CollectiveRunner runner(t, q, rec, net);
  if (change && at < 0) change(net);
  if (change && at >= 0) q.at(to_simtime(at), [&] { change(net); });
  std::vector<int> group;
  for (int d = 0; d < t.num_devices(); ++d) group.push_back(d);
  double time = -1;
  runner.collective(kind, group, bytes, algo, [&](const CollectiveResult& r) { time = r.time; });
  q.run();
  return time;
}

// Records the network's spans with the byte count in their args.
struct SpanSink : TraceSink {
  struct Span {
    SimTime begin, end;
    double bytes;
  };
  std::vector<Span> spans;
  int track(const std::string&, const std::string&, int) override { return 0; }
  void span(int, const std::string&, const char*, SimTime b, SimTime e, const std::string& args) override {
    spans.push_back({b, e, nlohmann::json::parse(args).value("bytes", -1.0)});
  }
  void async_span(const std::string&, const char*, std::uint64_t, SimTime, SimTime) override {}
  void counter(int, const std::string&, SimTime, double) override {}
  void flow(int, SimTime, int, SimTime, std::uint64_t) override {}
  void finish(bool) override {}
};

}  // namespace

TEST_CASE("network dynamic: a flow whose link halves at its midpoint ends at t_mid + remaining / (B/2)",
          "[network_dynamic]") {
  // gpu0 -> gpu1 on a 4-ring: one hop, latency L, bandwidth B; S bytes drain from L on.
  const double B = 100e9, L = 2e-6, S = 1e9;
  TopologyFixture f(ring_yaml(4, "100 GB/s", "2 us"));
  double alone = transfer_with_change(f.topo, 0, 1, S, 0, nullptr);
  CHECK(alone == Approx(L + S / B).epsilon(1e-9));
  // At the drain's midpoint half the bytes are left; they drain at B/2 from then on.
  const double t_mid = L + S / B / 2;
  const double remaining = S - B * (t_mid - L);
  const double expected = t_mid + remaining / (B / 2);
  SECTION("absolute bandwidth, both directions") {
    double t = transfer_with_change(f.topo, 0, 1, S, t_mid, [](FlowNet& n) { n.set_link_bandwidth(0, 1, 50e9); });
    CHECK(t == Approx(expected).epsilon(1e-9));
  }
  SECTION("fraction of nominal, the flow's direction only") {
    double t = transfer_with_change(f.topo, 0, 1, S, t_mid,
                                    [](FlowNet& n) { n.set_link_bandwidth_fraction(0, 1, 0.5, true); });
    CHECK(t == Approx(expected).epsilon(1e-9));
  }
  SECTION("the other direction only: no effect") {
    double t = transfer_with_change(f.topo, 0, 1, S, t_mid,
                                    [](FlowNet& n) { n.set_link_bandwidth_fraction(1, 0, 0.5, true); });
    CHECK(t == Approx(alone).epsilon(1e-9));
  }
  SECTION("halved, then restored at 3/4 of the original drain") {
    // From t_mid to t_3q the flow moves B/2 x (t_3q - t_mid); the rest goes at B again.
    const double t_3q = L + 0.75 * S / B;
    const double left = remaining - B / 2 * (t_3q - t_mid);
    EventQueue q;
    Recorder rec;
    FlowNet net(f.topo, q, rec);
    double done = -1;
    net.transfer(0, 1, S, [&] { done = to_seconds(q.now()); });
    q.at(to_simtime(t_mid), [&] { net.set_link_bandwidth_fraction(0, 1, 0.5); });
    q.at(to_simtime(t_3q), [&] { net.set_link_bandwidth_fraction(0, 1, 1.0); });
    q.run();
    CHECK(done == Approx(t_3q + left / B).epsilon(1e-9));
  }
}

TEST_CASE("network dynamic: two flows sharing a degraded link split it max-min fair", "[network_dynamic]") {
  // DGX switch: gpu0 -> gpu2 and gpu1 -> gpu2 share the switch -> gpu2 port (B). Degrading
  // that port to B/4 before they start: each gets B/8 and ends at L + S / (B/8).
  TopologyFixture f(dgx_yaml());
  const double B = 450e9, L = 2e-6, S = 1e9;
  int sw = f.topo.vertex_by_name("nvlink.sw0");
  REQUIRE(sw >= 0);
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  net.set_link_bandwidth_fraction(sw, 2, 0.25, true);
  std::vector<double> done(2, -1);
  net.transfer(0, 2, S, [&] { done[0] = to_seconds(q.now()); });
  net.transfer(1, 2, S, [&] { done[1] = to_seconds(q.now()); });
  q.run();
  CHECK(done[0] == Approx(L + S / (B / 8)).epsilon(1e-9));
  CHECK(done[1] == Approx(L + S / (B / 8)).epsilon(1e-9));
}

TEST_CASE("network dynamic: a ring all-reduce is bounded by its slowest link", "[network_dynamic][collective]") {
  // Ring all-reduce over n ranks: 2(n-1) lock-step steps, each moving S/n over every ring
  // link at once; a step ends when its slowest transfer does: L + (S/n) / B_min.
  const int n = 8;
  const double B = 100e9, L = 1e-6, S = 64.0 * 1024 * 1024;
  TopologyFixture f(ring_yaml(n, "100 GB/s", "1 us"));
  const int steps = 2 * (n - 1);
  const double step_fast = L + S / n / B, step_slow = L + S / n / (B / 4);
  for (bool fast : {true, false}) {
    INFO("fast path " << fast);
    double nominal = collective_with_change(f.topo, CollectiveKind::AllReduce, "ring", S, -1, nullptr, fast);
    CHECK(nominal == Approx(steps * step_fast).epsilon(1e-9));
    // gpu3 -> gpu4 at a quarter of its bandwidth from the start: every step is that slow.
    double degraded = collective_with_change(f.topo, CollectiveKind::AllReduce, "ring", S, -1,
                                             [](FlowNet& net) { net.set_link_bandwidth_fraction(3, 4, 0.25); }, fast);
    CHECK(degraded == Approx(steps * step_slow).epsilon(1e-9));
    // Degraded midway through step k: that step's gpu3 -> gpu4 transfer has moved
    // B (t - k step_fast - L) bytes and drains the rest at B/4; later steps are all slow.
    const int k = 5;
    const double t = k * step_fast + L + 0.5 * S / n / B;
    const double left = S / n - B * (t - k * step_fast - L);
    const double expected = t + left / (B / 4) + (steps - k - 1) * step_slow;
    double midway = collective_with_change(f.topo, CollectiveKind::AllReduce, "ring", S, t,
                                           [](FlowNet& net) { net.set_link_bandwidth_fraction(3, 4, 0.25); }, fast);
    CHECK(midway == Approx(expected).epsilon(1e-9));
  }
}

TEST_CASE("network dynamic: a link down mid-flow on a 2D torus reroutes, the bytes arrive later", "[network_dynamic]") {
  // 4x4 torus, gpu0 -> gpu2: dimension order along x, 0 -> 1 -> 2 (ties go +), 2 hops of
  // latency L at bandwidth B. Link 0-1 goes down at t_cut: the flow has moved
  // B (t_cut - 2L) bytes; the only other 2-hop path is 0 -> 3 -> 2, where it pays the
  // latency 2L again and drains the rest alone at B.
  const double B = 100e9, L = 1e-6, S = 1e9;
  TopologyFixture f(torus_yaml(4, 4, 1));
  double uncut = transfer_with_change(f.topo, 0, 2, S, 0, nullptr);
  CHECK(uncut == Approx(2 * L + S / B).epsilon(1e-9));
  const double t_cut = 2 * L + 0.3 * S / B;
  const double left = S - B * (t_cut - 2 * L);
  bool idle = false;
  double cut = transfer_with_change(f.topo, 0, 2, S, t_cut, [](FlowNet& n) { n.set_link_up(0, 1, false); }, &idle);
  CHECK(cut == Approx(t_cut + 2 * L + left / B).epsilon(1e-9));
  CHECK(cut > uncut);
  CHECK(idle);
  SECTION("the detour carries the flow; the down link carries nothing") {
    EventQueue q;
    Recorder rec;
    FlowNet net(f.topo, q, rec);
    net.transfer(0, 2, S, [] {});
    q.at(to_simtime(t_cut), [&] { net.set_link_up(0, 1, false); });
    q.run(to_simtime(t_cut + 3 * L));
    int l01 = f.topo.link_between(0, 1), l03 = f.topo.link_between(0, 3);
    DirLink d01 = 2 * l01 + (f.topo.links[static_cast<size_t>(l01)].a == 0 ? 0 : 1);
    DirLink d03 = 2 * l03 + (f.topo.links[static_cast<size_t>(l03)].a == 0 ? 0 : 1);
    CHECK(net.link_load(d01) == 0);
    CHECK(net.link_load(d03) == Approx(B));
    CHECK(net.down_links_text() == "gpu0-gpu1");
  }
  SECTION("the timeline shows each path with the bytes that crossed it, from when it took them") {
    // Regression (simulate fuzz target, 2026-12-04): the detour's spans began when the
    // message was issued and carried its whole size, so a link appeared to move more
    // than its bandwidth allows (here 1 GB in 8.3 ms, 120 GB/s on a 100 GB/s link).
    EventQueue q;
    Recorder rec;
    auto sink = std::make_unique<SpanSink>();
    SpanSink* cap = sink.get();
    rec.add(std::move(sink));
    FlowNet net(f.topo, q, rec);
    net.transfer(0, 2, S, [] {});
    q.at(to_simtime(t_cut), [&] { net.set_link_up(0, 1, false); });
    q.run();
    std::vector<SpanSink::Span> old_path, detour;
    for (const auto& sp : cap->spans) (sp.begin == 0 ? old_path : detour).push_back(sp);
    REQUIRE(old_path.size() == 2);  // 0 -> 1 -> 2
    REQUIRE(detour.size() == 2);    // 0 -> 3 -> 2
    for (const auto& sp : old_path) {
      CHECK(to_seconds(sp.end) == Approx(t_cut).epsilon(1e-9));
      CHECK(sp.bytes == Approx(S - left).epsilon(1e-6));
    }
    for (const auto& sp : detour) {
      CHECK(to_seconds(sp.begin) == Approx(t_cut).epsilon(1e-9));
      CHECK(to_seconds(sp.end) == Approx(cut).epsilon(1e-9));
      CHECK(sp.bytes == Approx(left).epsilon(1e-6));
    }
    for (const auto& sp : cap->spans) CHECK(sp.bytes <= B * to_seconds(sp.end - sp.begin) * (1 + 1e-9));
  }
  SECTION("a link that comes back up is used by later transfers again") {
    EventQueue q;
    Recorder rec;
    FlowNet net(f.topo, q, rec);
    net.set_link_up(0, 1, false);
    net.set_link_up(0, 1, true);
    double done = -1;
    net.transfer(0, 2, S, [&] { done = to_seconds(q.now()); });
    q.run();
    CHECK(done == Approx(uncut).epsilon(1e-9));
    CHECK(net.links_down() == 0);
  }
}

TEST_CASE("network dynamic: a torus all-reduce survives a cut, slower, fast path or not", "[network_dynamic][collective]") {
  const double S = 256.0 * 1024 * 1024;
  TopologyFixture f(torus_yaml(4, 4, 1));
  double base = collective_with_change(f.topo, CollectiveKind::AllReduce, "torus", S, -1, nullptr);
  auto cut = [](FlowNet& n) { n.set_link_up(5, 6, false); };
  double fast = collective_with_change(f.topo, CollectiveKind::AllReduce, "torus", S, base / 3, cut, true);
  double slow = collective_with_change(f.topo, CollectiveKind::AllReduce, "torus", S, base / 3, cut, false);
  CHECK(fast > base);
  CHECK(slow > base);
  // Both paths simulate the same transfers once the cut demotes the fast phases.
  CHECK(fast == Approx(slow).epsilon(1e-9));
}

TEST_CASE("network dynamic: no route left throws InfeasibleError naming the cut", "[network_dynamic]") {
  TopologyFixture f(ring_yaml(4, "100 GB/s", "1 us"));
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  net.transfer(0, 1, 1e9, [] {});
  q.at(to_simtime(1e-3), [&] { net.set_link_up(0, 1, false); });  // rerouted the long way
  q.at(to_simtime(2e-3), [&] { net.set_link_up(2, 3, false); });  // now 0 and 1 are apart
  try {
    q.run();
    FAIL("no error");
  } catch (const InfeasibleError& e) {
    std::string m = e.what();
    CHECK(m.find("no route from gpu0 to gpu1") != std::string::npos);
    CHECK(m.find("gpu0-gpu1") != std::string::npos);
    CHECK(m.find("gpu2-gpu3") != std::string::npos);
  }
  // A collective started on a partitioned group names both sides and the down links.
  CollectiveRunner runner(f.topo, q, rec, net);
  CHECK_THROWS_WITH(runner.collective(CollectiveKind::AllReduce, {0, 1, 2, 3}, 1e6, "ring", [](const CollectiveResult&) {}),
                    Catch::Contains("partitioned") && Catch::Contains("links down gpu0-gpu1, gpu2-gpu3"));
}

TEST_CASE("network dynamic: bad arguments are refused", "[network_dynamic]") {
  TopologyFixture f(ring_yaml(4, "100 GB/s", "1 us"));
  EventQueue q;
  Recorder rec;
  FlowNet net(f.topo, q, rec);
  CHECK_THROWS_AS(net.set_link_bandwidth(0, 2, 1e9), std::invalid_argument);  // not adjacent
  CHECK_THROWS_AS(net.set_link_bandwidth(0, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(net.set_link_bandwidth_fraction(0, 1, -1), std::invalid_argument);
}

TEST_CASE("network dynamic: event link names split at the '-' that joins two adjacent vertices",
          "[network_dynamic]") {
  // Switch names may contain '-' themselves: gpu0 and gpu1 hang off "sw-a", gpu1 also
  // off "sw-b"; "gpu1-sw-b" can only split as gpu1 | sw-b.
  TopologyFixture f(
      "name: dashes\ndevice: nvidia-h100-sxm\ncount: 2\nfabrics:\n"
      "  - name: p\n    type: p2p\n    shape: links\n    switches: [sw-a, sw-b]\n"
      "    link: {bandwidth: 10 GB/s, latency: 1 us}\n"
      "    links:\n      - {a: gpu0, b: sw-a}\n      - {a: gpu1, b: sw-a}\n      - {a: gpu1, b: sw-b}\n");
  auto parse = [&](const std::string& events) {
    Doc d = parse_doc("kind: microbench\nevents:\n" + events, "events.yaml");
    Fields root(d, "workload");
    return parse_events(root, f.topo);
  };
  auto ev = parse("  - {at: 1 us, link: gpu1-sw-b, state: down}\n  - {at: 2 us, link: sw-a->gpu0, bandwidth: 50%}\n");
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].what == "link gpu1-sw-b down");
  CHECK(ev[0].at == to_simtime(1e-6));
  CHECK(ev[1].what == "link sw-a->gpu0 bandwidth 50%");
  CHECK_THROWS_WITH(parse("  - {at: 1 us, link: gpu0-sw-b, state: down}\n"),
                    Catch::Contains("no link joins gpu0 and sw-b"));
  try {
    parse("  - {at: 1 us, link: gpu0-sw-c, state: down}\n");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.pos().line == 3);
    CHECK(std::string(e.what()).find("did you mean 'gpu0-sw-a'") != std::string::npos);
  }
}

// ---- through the binary: `events:` in a microbench workload ----

namespace {
using namespace llmsim_test;
const std::string kRing = "test/data/netdyn/ring4.yaml";

int run_events(const std::string& workload, std::string& log_text, nlohmann::json* summary = nullptr) {
  std::string dir = make_tmpdir("netdyn");
  int rc = run_llmsim("run -t " + kRing + " -w " + workload + " -o '" + dir + "/out' --quiet", dir + "/log");
  log_text = slurp(dir + "/log");
  if (summary && exists(dir + "/out/summary.json")) *summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  std::system(("rm -rf '" + dir + "'").c_str());
  return rc;
}
}  // namespace

TEST_CASE("network dynamic: a ring cut twice during an all-reduce exits 3 naming the cut", "[network_dynamic][cli]") {
  std::string log;
  int rc = run_events("test/data/netdyn/ring-cut-twice.yaml", log);
  CHECK(rc == 3);
  CHECK(log.find("llmsim: infeasible:") != std::string::npos);
  CHECK(log.find("gpu0-gpu1") != std::string::npos);
  CHECK(log.find("gpu2-gpu3") != std::string::npos);
  CHECK(log.find("ring-cut-twice.yaml:") != std::string::npos);  // the event that cut it
}

TEST_CASE("network dynamic: a degraded link through `events:` slows the all-reduce as derived", "[network_dynamic][cli]") {
  // ring4.yaml: 4 GPUs, 100 GB/s, 1 us, H100s running NCCL (docs/models.md "Collective
  // libraries"), Simple at 64 MiB: 8.4 us, then 6 steps of max(1 us, 3.4 us) +
  // (S/4) / (0.772 B_min) (0.772: NCCL's measured share of NVLink, C13), with gpu1-gpu2 at
  // 25% from t = 0: B_min = B/4.
  std::string log;
  nlohmann::json s;
  REQUIRE(run_events("test/data/netdyn/ring-degrade.yaml", log, &s) == 0);
  const double S = 64.0 * 1024 * 1024, B = 100e9, eff = 231.6 / 300;
  REQUIRE(s["microbench"].size() == 1);
  CHECK(s["microbench"][0]["time_s"].get<double>() ==
        Approx(8.4e-6 + 6 * (3.4e-6 + S / 4 / (eff * B / 4))).epsilon(1e-9));
}

TEST_CASE("network dynamic: bad `events:` entries exit 2 at their position", "[network_dynamic][cli]") {
  std::string log;
  CHECK(run_events("test/data/netdyn/bad-link-name.yaml", log) == 2);
  CHECK(log.find("bad-link-name.yaml:6:") != std::string::npos);
  CHECK(log.find("did you mean 'gpu0-gpu1'") != std::string::npos);
  CHECK(run_events("test/data/netdyn/bad-event-key.yaml", log) == 2);
  CHECK(log.find("bad-event-key.yaml:6:") != std::string::npos);
}

}  // namespace test_network_dynamic
