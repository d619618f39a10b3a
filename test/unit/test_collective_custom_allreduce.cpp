// A serving stack's own all-reduce kernel (vLLM's custom_all_reduce, TensorRT-LLM's
// custom all-reduce; docs/models.md "Collective libraries"): inside one NVLink domain and
// up to its size limit it replaces the library, one-shot (every rank sends the whole
// message to every peer, one step) or two-shot (`direct`: reduce-scatter + all-gather of
// S/n per pair, two steps), whichever costs less. Expected times are derived by hand from
// the switch ports: each GPU's port carries its (n-1) sends.
#include <catch2/catch.hpp>

#include <string>

#include "sim/net/collective.h"
#include "sim/net/collective_library.h"
#include "sim/net/runner.h"
#include "sim/software/stack.h"
#include "test_network_fixtures.h"

namespace test_collective_custom_allreduce {

using namespace llmsim;

namespace {
// NCCL (from its file) with a custom all-reduce of base 6.6 us, 0.6 us a step, up to 8 MiB
// over at most 8 ranks, as the shipped serving stacks declare it.
CollectiveLibrary nccl_with_custom(double max_bytes) {
  SoftwareStack sw;
  sw.name = "test";
  sw.collective_library = "nccl";
  sw.custom_allreduce_max_bytes = max_bytes;
  sw.custom_allreduce_max_ranks = 8;
  sw.custom_allreduce_base_latency = 6.6e-6;
  sw.custom_allreduce_step_latency = 0.6e-6;
  LibraryPtr lib = stack_collective_library(sw);
  REQUIRE(lib);
  return *lib;
}

const double kPort = 450e9;  // dgx_yaml(): one 450 GB/s port per GPU, 1 us per hop
const double kRoute = 2e-6;  // GPU -> switch -> GPU: two 1 us hops (above LL's 0.6 us step)
}  // namespace

// 16 KiB: one step of the whole message from each GPU to its 7 peers, 7 x S through each
// port at NCCL's measured NVLink share (C13), after the kernel's 6.6 us start and the route.
TEST_CASE("custom all-reduce: a small message runs one-shot inside the NVLink domain", "[network]") {
  TopologyFixture f(dgx_yaml());
  CollectiveLibrary lib = nccl_with_custom(8.0 * (1 << 20));
  const double eff = lib.efficiency_on("nvlink");
  const double S = 16384;
  auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "auto", true, 0, nullptr, nullptr, &lib);
  CHECK(r.algorithm == "one-shot");
  CHECK(r.protocol == "custom");
  CHECK(r.time == Approx(6.6e-6 + kRoute + 7 * S / (kPort * eff)).epsilon(0.01));
  // NCCL alone on the same box runs a 14-step ring: several times slower at this size.
  CollectiveLibrary plain = lib;
  plain.custom_max_bytes = 0;
  auto n = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "auto", true, 0, nullptr, nullptr, &plain);
  CHECK(n.protocol != "custom");
  CHECK(n.time > 3 * r.time);
}

// 1 MB: two steps of S/8 per pair (7 x S/8 through a port each) beat one step of 7 x S.
TEST_CASE("custom all-reduce: a mid-size message runs two-shot, and the switch between is by cost", "[network]") {
  TopologyFixture f(dgx_yaml());
  CollectiveLibrary lib = nccl_with_custom(8.0 * (1 << 20));
  const double B = kPort * lib.efficiency_on("nvlink");
  const double S = 1e6;
  auto r = run_collective(f.topo, CollectiveKind::AllReduce, iota(8), S, "auto", true, 0, nullptr, nullptr, &lib);
  CHECK(r.algorithm == "direct");
  CHECK(r.protocol == "custom");
  CHECK(r.time == Approx(6.6e-6 + 2 * (kRoute + 7 * (S / 8) / B)).epsilon(0.01));
  // One-shot costs base + route + 7S/B, two-shot base + 2 route + 1.75 S/B: they cross
  // where 5.25 S/B = one route latency (~132 kB here; vLLM switches at 256 KiB on 8 GPUs).
  const double cross = kRoute * B / 5.25;
  auto below =
      run_collective(f.topo, CollectiveKind::AllReduce, iota(8), 0.8 * cross, "auto", true, 0, nullptr, nullptr, &lib);
  auto above =
      run_collective(f.topo, CollectiveKind::AllReduce, iota(8), 1.25 * cross, "auto", true, 0, nullptr, nullptr, &lib);
  CHECK(below.algorithm == "one-shot");
  CHECK(above.algorithm == "direct");
}

// Past max_bytes, over a non-NVLink route, for other collectives, or beyond max_ranks the
// library runs the message as it would without the stack's kernel.
TEST_CASE("custom all-reduce: larger messages, network routes and other collectives run the library", "[network]") {
  TopologyFixture dgx(dgx_yaml());
  CollectiveLibrary lib = nccl_with_custom(1 << 20);
  CollectiveRequest big{CollectiveKind::AllReduce, iota(8), 2.0 * (1 << 20), 0, &lib};
  CHECK_FALSE(custom_allreduce_runs(dgx.topo, big));
  CHECK(run_collective(dgx.topo, CollectiveKind::AllReduce, iota(8), big.bytes, "auto", true, 0, nullptr, nullptr, &lib)
            .protocol != "custom");
  CollectiveRequest gather{CollectiveKind::AllGather, iota(8), 4096, 0, &lib};
  CHECK_FALSE(custom_allreduce_runs(dgx.topo, gather));
  CollectiveRequest pair{CollectiveKind::AllReduce, {0, 5}, 4096, 0, &lib};
  CHECK(custom_allreduce_runs(dgx.topo, pair));
  lib.custom_max_ranks = 4;
  CollectiveRequest eight{CollectiveKind::AllReduce, iota(8), 4096, 0, &lib};
  CHECK_FALSE(custom_allreduce_runs(dgx.topo, eight));
  // Two DGX nodes over InfiniBand: a group spanning them has network hops.
  TopologyFixture pod(superpod_yaml(2));
  CollectiveLibrary pod_lib = nccl_with_custom(8.0 * (1 << 20));
  CollectiveRequest across{CollectiveKind::AllReduce, {0, 8}, 4096, 0, &pod_lib};
  CHECK_FALSE(custom_allreduce_runs(pod.topo, across));
  CollectiveRequest inside{CollectiveKind::AllReduce, {0, 1, 2, 3}, 4096, 0, &pod_lib};
  CHECK(custom_allreduce_runs(pod.topo, inside));
}

// The serving stacks declare it; the system default a microbench or a training run naming
// no stack calls is the library alone (nccl-tests measure NCCL, CALIBRATION C3).
TEST_CASE("custom all-reduce: serving stacks carry it, the default library does not", "[network]") {
  for (const char* stack : {"vllm-cuda", "vllm-rocm", "sglang", "trt-llm"}) {
    INFO(stack);
    LibraryPtr lib = stack_collective_library(load_software_file(stack, {}));
    REQUIRE(lib);
    CHECK(lib->custom_max_bytes == Approx(8.0 * (1 << 20)));
    CHECK(lib->custom.name == "custom");
  }
  for (const char* stack : {"megatron", "nemo", "llm-foundry"}) {
    INFO(stack);
    LibraryPtr lib = stack_collective_library(load_software_file(stack, {}));
    if (lib) CHECK(lib->custom_max_bytes == 0);
  }
  TopologyFixture f(dgx_yaml());
  LibraryPtr def = default_collective_library(f.topo);
  REQUIRE(def);
  CHECK(def->custom_max_bytes == 0);
}

}  // namespace test_collective_custom_allreduce
