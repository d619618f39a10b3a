// Collective libraries beyond NCCL / RCCL (issue 12 item 4): the library follows the
// software stack (topologies/software/*.yaml -> collective.library ->
// topologies/collectives/*.yaml), each shipped stack's library file loads with a source
// per figure, and all-reduce on meshes without in-switch reduction (Gaudi's all-to-all
// RoCE, TPU's ICI torus) comes from the library's figures. Expected times are ring and
// torus step counts times the figures read from the files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/net/collective.h"
#include "sim/net/collective_library.h"
#include "sim/net/runner.h"
#include "sim/software/stack.h"
#include "test_network_fixtures.h"

namespace test_collective_stacks {

using namespace llmsim;

namespace {
// An 8-chip ring of Ethernet-kind links (NCCL's and every other library's "network" class).
std::string ethernet_ring(const std::string& bw, const std::string& lat) {
  return "name: test-eth-ring\ndevice: nvidia-h100-sxm\ncount: 8\nfabrics:\n"
         "  - {name: e, type: ethernet, shape: ring, link: {bandwidth: " +
         bw + ", latency: " + lat + "}}\n";
}

LibraryPtr library_of_stack(const std::string& stack) {
  return stack_collective_library(load_software_file(stack, {}));
}

// Ring all-reduce of S over n ranks under protocol p of lib on links of rate B and latency
// L: base + 2(n-1) steps, each max(network step latency, L) + (S/n) / (B x eff x payload).
double ring_all_reduce(const CollectiveLibrary& lib, const CollectiveProtocol& p, double S, int n, double B, double L,
                       const std::string& kind) {
  const double step = std::max(p.step_latency[static_cast<int>(LinkLatencyClass::Net)].value(), L);
  return p.base_latency + 2 * (n - 1) * (step + (S / n) / (B * lib.efficiency_on(kind) * p.payload_fraction));
}
}  // namespace

TEST_CASE("collective stacks: every shipped stack's library file loads, borrowed figures say so", "[network]") {
  LibraryPtr nccl = load_collective_library("nccl");
  REQUIRE(nccl);
  for (const char* stack :
       {"vllm-cuda", "trt-llm", "sglang", "vllm-rocm", "optimum-habana", "jax-tpu", "tt-metal", "poplar"}) {
    INFO("stack " << stack);
    const SoftwareStack sw = load_software_file(stack, {});
    LibraryPtr lib = stack_collective_library(sw);
    REQUIRE(lib);
    CHECK(lib->name == sw.collective_library);
    CHECK(!lib->protocols.empty());
    for (const auto& kv : lib->sources) {
      INFO("figure " << kv.first << ": " << kv.second);
      // NCCL's NVLink share is fitted on CALIBRATION C13: another library may use it only
      // as a figure that says where it comes from.
      if (lib->name != "nccl" && kv.second.find("C13") != std::string::npos)
        CHECK(kv.second.rfind("inherited from", 0) == 0);
    }
  }
  // RCCL keeps NCCL's protocol figures and says so.
  LibraryPtr rccl = load_collective_library("rccl");
  REQUIRE(rccl);
  for (const auto& p : rccl->protocols)
    CHECK(rccl->sources.at("protocols." + p.name).rfind("inherited from nccl", 0) == 0);
  // The libraries new in this release are single-protocol bulk libraries of their own.
  for (const char* name : {"hccl", "xla", "gcl", "ttnn-ccl"}) {
    LibraryPtr lib = load_collective_library(name);
    REQUIRE(lib);
    CHECK(lib->protocols.size() == 1);
    CHECK(lib->protocols[0].name == "simple");
    CHECK(!lib->protocols[0].in_switch);  // none of these fabrics reduces in a switch
  }
}

// The same 256 MiB ring all-reduce on the same Ethernet ring under two stacks: vllm-cuda
// (nccl) and tt-metal (ttnn-ccl). At this size both run their bulk protocol (nccl: Simple
// beats LL128 by its full payload once 14 x 10 us of extra step latency is small), so each
// time is the ring formula over its file's figures and the two differ by exactly the
// difference of the formulas: base latencies, 14 x step latencies, and the data term at
// the two files' link shares.
TEST_CASE("collective stacks: the same all-reduce under two stacks differs as their files predict", "[network]") {
  TopologyFixture f(ethernet_ring("100 GB/s", "1 us"));
  const double S = 256.0 * (1 << 20), B = 100e9, L = 1e-6;
  LibraryPtr cuda = library_of_stack("vllm-cuda"), tt = library_of_stack("tt-metal");
  REQUIRE(cuda->name == "nccl");
  REQUIRE(tt->name == "ttnn-ccl");
  auto on_cuda =
      run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "ring", true, 0, nullptr, nullptr, cuda.get());
  auto on_tt =
      run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "ring", true, 0, nullptr, nullptr, tt.get());
  REQUIRE(on_cuda.protocol == "simple");
  REQUIRE(on_tt.protocol == "simple");
  const double t_cuda = ring_all_reduce(*cuda, *cuda->protocol("simple"), S, 8, B, L, "ethernet");
  const double t_tt = ring_all_reduce(*tt, *tt->protocol("simple"), S, 8, B, L, "ethernet");
  CHECK(on_cuda.time == Approx(t_cuda).epsilon(1e-6));
  CHECK(on_tt.time == Approx(t_tt).epsilon(1e-6));
  CHECK(on_tt.time - on_cuda.time == Approx(t_tt - t_cuda).epsilon(1e-4));
  // The files differ (ttnn-ccl's lower Ethernet share), so the stacks must too.
  CHECK(on_tt.time > on_cuda.time * 1.05);
}

// Gaudi 3 HLS: 8 chips all-to-all over 3 x 200 GbE per pair, no in-switch reduction. The
// default stack (optimum-habana) runs HCCL; `auto` picks the one-shot (direct) all-reduce:
// 2 steps of S/8 per pair (reduce-scatter then all-gather), each max(HCCL's network step,
// 1 us link) + (S/8) / (75 GB/s x HCCL's RoCE share), plus HCCL's base latency: the
// library's figures, no fitted start-up or efficiency pair.
TEST_CASE("collective stacks: Gaudi HLS all-reduce comes from HCCL's figures", "[network]") {
  TopologyFixture f(source_text("topologies/gaudi3-8.yaml"), "topologies/gaudi3-8.yaml");
  LibraryPtr lib = default_collective_library(f.topo);
  REQUIRE(lib);
  REQUIRE(lib->name == "hccl");
  const CollectiveProtocol& p = lib->protocols.at(0);
  const double S = 64.0 * (1 << 20), pair = 3 * 25e9;
  auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "auto", true, 0, nullptr, nullptr, lib.get());
  CHECK(r.algorithm == "direct");
  CHECK(r.protocol == "simple");
  const double step = std::max(p.step_latency[static_cast<int>(LinkLatencyClass::Net)].value(), 1e-6);
  CHECK(r.time == Approx(p.base_latency + 2 * (step + (S / 8) / (pair * lib->efficiency_on("roce")))).epsilon(1e-6));
  auto bare = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "direct");
  CHECK(r.time > bare.time);  // the nominal-rate, latency-free model the library replaces
}

// TPU v4 cube (4x4x4 ICI torus): XLA's torus all-reduce reduce-scatters along each of the 3
// dimensions (k-1 = 3 steps each) and all-gathers back: 18 steps. Under XLA's figures each
// step pays max(XLA's step latency, 1 us link) and its data at the ICI share, plus XLA's
// base latency; without a library the same plan pays 1 us per step at the nominal rate. So
// (with - base - 18 x (step - 1 us)) = (bare - 18 x 1 us) / share + 18 x 1 us.
TEST_CASE("collective stacks: TPU torus all-reduce comes from XLA's figures", "[network]") {
  TopologyFixture f(torus_yaml(4, 4, 4, "50 GB/s"));
  LibraryPtr lib = default_collective_library(f.topo);
  REQUIRE(lib);
  REQUIRE(lib->name == "xla");
  const CollectiveProtocol& p = lib->protocols.at(0);
  const double S = 256.0 * (1 << 20), L = 1e-6, steps = 2 * 3 * 3;
  auto r =
      run_collective(f.topo, CollectiveKind::AllReduce, iota(64), S, "torus", true, 0, nullptr, nullptr, lib.get());
  auto bare = run_collective(f.topo, CollectiveKind::AllReduce, iota(64), S, "torus");
  CHECK(r.protocol == "simple");
  const double step = std::max(p.step_latency[static_cast<int>(LinkLatencyClass::Net)].value(), L);
  const double share = lib->efficiency_on("ici");
  CHECK(r.time - p.base_latency - steps * (step - L) ==
        Approx((bare.time - steps * L) / share + steps * L).epsilon(1e-6));
}

// Gaudi 2, issue 12 rows C31-C33: the TP all-reduce against the wire. HLS-Gaudi2 joins each
// pair of cards by 3 of their 24 x 100 GbE ports [HL-net-g2], 3 x 12.5 = 37.5 GB/s per
// direction. An all-reduce of S over n ranks must put 2(n-1)/n x S through each rank's
// ports (nccl-tests' bus factor), so it cannot beat S x 2(n-1)/n / (ports x 12.5 GB/s):
// at n = 2 that is S / 37.5 GB/s over the pair's 3 ports, at n = 8 1.75 S over 21 ports.
// HCCL's one-shot plan is 2 steps (reduce-scatter, all-gather) of S/n per pair, so under
// hccl.yaml it takes base + 2 x (max(step, 1 us link) + (S/n) / (37.5 GB/s x share)): the
// wire bound / share plus fixed latencies. A ring paying 2(n-1) steps on two ranks twice,
// one port per pair instead of 3, or another library's share would each fail here.
// Messages: C31's decode step (1,750 tokens x hidden 8,192 x 2 B, bf16 activations) on the
// C31 pair; C32's 2,048-token prefill (33.5 MB) and a batch-1 decode's 16 KiB on the HLS.
TEST_CASE("collective stacks: Gaudi 2 TP all-reduce sits at its ports' wire bound over HCCL's share", "[network]") {
  struct Case {
    const char* topo;
    int n;
    double bytes, ports;
  };
  const double port = 100e9 / 8, link_latency = 1e-6;
  for (const Case& c : {Case{"workloads/calibration/c31-gaudi2-2.topology.yaml", 2, 1750.0 * 8192 * 2, 3},
                        Case{"topologies/gaudi2-8.yaml", 8, 2048.0 * 8192 * 2, 21},
                        Case{"topologies/gaudi2-8.yaml", 8, 8192.0 * 2, 21}}) {
    INFO(c.topo << ", " << c.bytes << " B");
    TopologyFixture f(source_text(c.topo), c.topo);
    LibraryPtr lib = default_collective_library(f.topo);
    REQUIRE(lib);
    REQUIRE(lib->name == "hccl");
    const CollectiveProtocol& p = lib->protocols.at(0);
    const double share = lib->efficiency_on("roce") * p.payload_fraction;
    const double step = std::max(p.step_latency[static_cast<int>(LinkLatencyClass::Net)].value(), link_latency);
    const double pair = 3 * port;  // each pair's 3 ports
    auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(c.n), c.bytes, "auto", true, 0, nullptr, nullptr,
                            lib.get());
    // Times are whole picoseconds: a 1 ns margin is 1 % of the smallest data term here.
    CHECK(r.time == Approx(p.base_latency + 2 * (step + (c.bytes / c.n) / (pair * share))).epsilon(1e-6).margin(1e-9));
    const double wire = c.bytes * 2 * (c.n - 1) / c.n / (c.ports * port);
    CHECK(r.time >= wire);
    // Bus bandwidth: every port of the group busy at HCCL's share once the fixed latency
    // is paid (the data term alone equals the wire bound over the share).
    CHECK(r.time - p.base_latency - 2 * step == Approx(wire / share).epsilon(1e-6).margin(1e-9));
    CHECK(r.busbw.value() <= c.ports * port * share * (1 + 1e-9));
  }
}

}  // namespace test_collective_stacks
