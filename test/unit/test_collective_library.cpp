// Collective library model (issue 12 item 4): protocols chosen by modelled cost, their
// per-step latency and payload share, channels, and the shipped library files. Expected
// times are derived by hand from the ring's step count and the protocol's figures.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/net/collective.h"
#include "sim/net/collective_library.h"
#include "sim/net/runner.h"
#include "test_network_fixtures.h"

namespace test_collective_library {

using namespace llmsim;

namespace {
CollectiveProtocol proto(const std::string& name, double payload, double base_us, double step_us) {
  CollectiveProtocol p;
  p.name = name;
  p.payload_fraction = payload;
  p.base_latency = base_us * 1e-6;
  for (auto& s : p.step_latency) s = step_us * 1e-6;
  return p;
}

// NCCL's three protocols with its ring NVLink figures (nccl.yaml), no channel caps.
CollectiveLibrary three_protocols(double efficiency) {
  CollectiveLibrary lib;
  lib.name = "test";
  lib.efficiency = efficiency;
  lib.channels = 16;
  lib.protocols = {proto("ll", 0.5, 6.6, 0.6), proto("ll128", 0.9375, 14, 1.9), proto("simple", 1, 8.4, 3.4)};
  return lib;
}
}  // namespace

// 8 ranks on a ring of 450 GB/s links with 0.1 us latency: NCCL's ring all-reduce takes
// 2(n-1) = 14 steps of S/8 each. With LL alone each step costs LL's 0.6 us (NCCL's hwLat
// is the whole step latency, the link's 0.1 us inside it) + (S/8) / (450 GB/s x 1/2); the
// collective adds LL's base latency once: 6.6 + 14 x 0.6 = 15 us for a tiny message.
TEST_CASE("collective library: small all-reduce latency is base + 14 steps x protocol step latency", "[network]") {
  TopologyFixture f(ring_yaml(8, "450 GB/s", "0.1 us"));
  CollectiveLibrary lib;
  lib.name = "ll-only";
  lib.efficiency = 1;
  lib.protocols = {proto("ll", 0.5, 6.6, 0.6)};
  const double S = 64;  // bytes: the data term is 64/8/225e9 = 36 ps per step
  auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "ring", true, 0, nullptr, nullptr, &lib);
  const double expected = 6.6e-6 + 14 * (0.6e-6 + (S / 8) / (450e9 * 0.5));
  CHECK(r.protocol == "ll");
  CHECK(r.time == Approx(expected).epsilon(1e-6));
  // Without a library the same ring pays only the link latency per step.
  auto bare = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "ring");
  CHECK(bare.protocol.empty());
  CHECK(r.time - bare.time == Approx(6.6e-6 + 14 * (0.6e-6 - 0.1e-6)).margin(1e-9));  // + 14 x 8 B / 450 GB/s
  // A link slower than the protocol's step latency sets the step: 2 us links, LL 0.6 us.
  TopologyFixture slow(ring_yaml(8, "450 GB/s", "2 us"));
  auto s2 = run_collective(slow.topo, CollectiveKind::AllReduce, iota(8), S, "ring", true, 0, nullptr, nullptr, &lib);
  CHECK(s2.time == Approx(6.6e-6 + 14 * (2e-6 + (S / 8) / (450e9 * 0.5))).epsilon(1e-6));
}

// Bandwidth-bound: 8 GiB on a ring of 1 us links under Simple at a measured 0.772 of the
// link rate takes 2(n-1)/n x S / (B x eff) plus 8.4 us + 14 x 3.4 us, i.e. busbw = B x eff.
TEST_CASE("collective library: large all-reduce runs at Simple's share of the link rate", "[network]") {
  TopologyFixture f(ring_yaml(8, "450 GB/s", "1 us"));
  CollectiveLibrary lib = three_protocols(0.772);
  const double S = 8.0 * (1 << 30), B = 450e9, eff = 0.772;
  auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "ring", true, 0, nullptr, nullptr, &lib);
  CHECK(r.protocol == "simple");
  const double expected = 2.0 * 7 / 8 * S / (B * eff) + 8.4e-6 + 14 * 3.4e-6;
  CHECK(r.time == Approx(expected).epsilon(1e-6));
  CHECK(r.busbw == Approx(B * eff).epsilon(0.002));  // 56 us of latency in 54 ms
}

// The choice: LL for small messages (lowest latency), LL128 in the middle, Simple for the
// largest (full payload). On 1 us links the steps cost max(protocol, 1 us): LL 1, LL128
// 1.9, Simple 3.4 us. LL -> LL128 where LL128's extra latency 7.4 + 14 x 0.9 = 20 us equals
// LL's payload penalty 14 x S/8 x (1/(B x 0.5 e) - 1/(B x 0.9375 e)), at e = 0.772 about
// 4.3 MB; LL128 -> Simple where -5.6 + 14 x 1.5 = 15.4 us equals 14 x S/8 x (1/(0.9375 B e)
// - 1/(B e)): about 46 MB. The chosen time is the least of the three at every size, so it
// never falls as S grows.
TEST_CASE("collective library: protocol switches LL -> LL128 -> Simple with size, time monotone", "[network]") {
  TopologyFixture f(ring_yaml(8, "450 GB/s", "1 us"));
  CollectiveLibrary lib = three_protocols(0.772);
  const auto group = iota(8);
  CHECK(run_collective(f.topo, CollectiveKind::AllReduce, group, 1 << 20, "ring", true, 0, nullptr, nullptr, &lib)
            .protocol == "ll");
  CHECK(run_collective(f.topo, CollectiveKind::AllReduce, group, 16 << 20, "ring", true, 0, nullptr, nullptr, &lib)
            .protocol == "ll128");
  CHECK(run_collective(f.topo, CollectiveKind::AllReduce, group, 256 << 20, "ring", true, 0, nullptr, nullptr, &lib)
            .protocol == "simple");
  double last = 0;
  std::string seen;
  for (double S = 4096; S <= 512.0 * (1 << 20); S *= 1.25) {
    INFO("size " << S);
    auto r = run_collective(f.topo, CollectiveKind::AllReduce, group, S, "ring", true, 0, nullptr, nullptr, &lib);
    CHECK(r.time >= last);
    last = r.time;
    if (seen.empty() || seen.substr(seen.rfind(' ') + 1) != r.protocol) seen += " " + r.protocol;
    // Never worse than any single protocol.
    for (const auto& p : lib.protocols) {
      CollectiveLibrary one = lib;
      one.protocols = {p};
      auto t = run_collective(f.topo, CollectiveKind::AllReduce, group, S, "ring", true, 0, nullptr, nullptr, &one);
      CHECK(r.time <= t.time * (1 + 1e-9));
    }
  }
  CHECK(seen == " ll ll128 simple");
}

// Channels: a protocol whose channels carry at most 10 GB/s each and open one per 1 MiB
// reaches 4 x 10 = 40 GB/s per rank on a 4 MiB message, below the 450 GB/s link.
TEST_CASE("collective library: few channels cap a mid-size message", "[network]") {
  TopologyFixture f(ring_yaml(8, "450 GB/s", "0 us"));
  CollectiveLibrary lib;
  lib.name = "capped";
  lib.efficiency = 1;
  lib.channels = 32;
  lib.protocols = {proto("simple", 1, 0, 0)};
  lib.protocols[0].channel_bandwidth = 10e9;
  lib.protocols[0].min_channel_bytes = 1 << 20;
  const double S = 4 << 20;
  CHECK(channels_used(lib, lib.protocols[0], S) == 4);
  CHECK(channels_used(lib, lib.protocols[0], 1000) == 1);
  CHECK(channels_used(lib, lib.protocols[0], 1e12) == 32);
  auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "ring", true, 0, nullptr, nullptr, &lib);
  CHECK(r.time == Approx(14 * (S / 8) / 40e9).epsilon(1e-6));
}

// `auto` compares algorithms each under its best protocol: the estimate of the chosen
// plan is the least of the candidates' estimates with protocols applied.
TEST_CASE("collective library: auto takes the cheapest algorithm-protocol pair", "[network]") {
  TopologyFixture f(dgx_yaml());
  LibraryPtr lib = load_collective_library("nccl");
  REQUIRE(lib);
  for (double S : {65536.0, 16.0 * (1 << 20), 1.0 * (1 << 30)}) {
    CollectiveRequest req{CollectiveKind::AllReduce, iota(8), S, 0, lib.get()};
    auto costs = auto_costs(f.topo, req);
    REQUIRE(costs.size() >= 2);
    double best = costs.front().time;
    for (const auto& c : costs) best = std::min(best, c.time.value());
    auto r =
        run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "auto", true, 0, nullptr, nullptr, lib.get());
    INFO("size " << S << " chose " << r.algorithm << "/" << r.protocol);
    CHECK(!r.protocol.empty());
    CHECK(estimate_plan(f.topo, plan_for(f.topo, req, r.algorithm)) == Approx(best).epsilon(1e-9));
  }
}

TEST_CASE("collective library: shipped files load with a source per figure, stacks resolve theirs", "[network]") {
  for (const char* name : {"nccl", "rccl"}) {
    LibraryPtr lib = load_collective_library(name);
    REQUIRE(lib);
    CHECK(lib->name == name);
    CHECK(lib->protocols.size() == 3);
    for (const auto& p : lib->protocols) CHECK(lib->sources.count("protocols." + p.name) == 1);
  }
  // NVLink's efficiency is the C13 measurement: 231.6 GB/s busbw on 300 GB/s ports.
  CHECK(load_collective_library("nccl")->efficiency_on("nvlink") == Approx(231.6 / 300).epsilon(0.001));
  CHECK(load_collective_library("no-such-library") == nullptr);
  // A DGX H100 runs vllm-cuda by default, whose 16 channels replace NCCL's 32.
  TopologyFixture f(dgx_yaml());
  LibraryPtr lib = default_collective_library(f.topo);
  REQUIRE(lib);
  CHECK(lib->name == "nccl");
  CHECK(lib->channels == 16);
}

// Bad library files fail at load with the file's position, never a crash.
TEST_CASE("collective library: bad files are positioned input errors", "[network]") {
  const std::string dir = (std::filesystem::temp_directory_path() / "llmsim-test-collective-library").string();
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::string path = dir + "/" + name;
    std::ofstream(path) << text;
    return path;
  };
  const std::string ok_proto = "  - {name: simple, payload_fraction: 1}\n";
  const std::string head = "name: t\nefficiency: 0.9\nchannels: 4\nprotocols:\n";
  const std::string src =
      "sources: {efficiency: \"estimate: t\", channels: \"estimate: t\", protocols.simple: \"estimate: t\"}\n";
  CHECK_NOTHROW(load_collective_library_file(write("coll-ok.yaml", head + ok_proto + src)));
  CHECK_THROWS_AS(load_collective_library_file(
                      write("coll-payload.yaml", head + "  - {name: simple, payload_fraction: 1.5}\n" + src)),
                  InputError);
  CHECK_THROWS_AS(load_collective_library_file(
                      write("coll-nosrc.yaml", head + ok_proto + "sources: {efficiency: \"estimate: t\"}\n")),
                  InputError);
  CHECK_THROWS_AS(load_collective_library_file(write("coll-typo.yaml", head + ok_proto + src + "chanels: 3\n")),
                  InputError);
  try {
    load_collective_library_file(
        write("coll-neg.yaml", head + "  - {name: simple, payload_fraction: 1, base_latency: -1 us}\n" + src));
    FAIL("negative latency accepted");
  } catch (const InputError& e) {
    CHECK(e.located().find("coll-neg.yaml:5:") != std::string::npos);
  }
}

}  // namespace test_collective_library
