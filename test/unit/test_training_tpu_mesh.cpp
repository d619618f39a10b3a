// Issue 12, TPU training: XLA's device mesh on the torus (parallel axes on whole torus
// axes, [JAX-MESH]), collectives over a sub-torus on its bidirectional rings, and FSDP's
// layer-by-layer parameter gather. Expected figures come from the ring / torus formulas and
// from the torus geometry, not from the code under test.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_outcome.h"
#include "sim/net/collective.h"
#include "sim/net/runner.h"
#include "sim/workloads/training/mesh_placement.h"
#include "test_network_fixtures.h"

namespace test_training_tpu_mesh {

using namespace llmsim;
using nlohmann::json;

namespace {

constexpr double GiB = 1024.0 * 1024 * 1024;

// Coordinate of device `dev` along torus dimension `d` (dimension 0 varies fastest).
int coord(int dev, const std::vector<int>& dims, std::size_t d) {
  for (std::size_t i = 0; i < d; ++i) dev /= dims[i];
  return dev % dims[d];
}

}  // namespace

TEST_CASE("torus: a group on one torus line runs both ring directions, half a one-way ring's time", "[network]") {
  TopologyFixture f(torus_yaml(8, 4, 4));
  const double S = 1 * GiB, B = 100e9;
  std::vector<int> line;
  for (int x = 0; x < 8; ++x) line.push_back(x);  // dimension 0 at y = z = 0
  auto t = run_collective(f.topo, CollectiveKind::AllGather, line, S, "auto");
  CHECK(t.algorithm == "torus");
  // Each direction carries half of every chip's shard: (k - 1) / k x S / (2 B).
  CHECK(t.time == Approx(7.0 / 8 * S / (2 * B)).epsilon(0.02));
  auto ring = run_collective(f.topo, CollectiveKind::AllGather, line, S, "ring");
  CHECK(ring.time == Approx(7.0 / 8 * S / B).epsilon(0.02));
  // A plane (dimensions 1 and 2 at x = 3): reduce-scatter along dim 1 on S, then dim 2
  // on S / 4, each on both directions of its rings.
  std::vector<int> plane;
  for (int z = 0; z < 4; ++z)
    for (int y = 0; y < 4; ++y) plane.push_back(3 + 8 * (y + 4 * z));
  auto p = run_collective(f.topo, CollectiveKind::ReduceScatter, plane, S, "auto");
  CHECK(p.algorithm == "torus");
  CHECK(p.time == Approx(0.75 * S / (2 * B) + 0.75 * (S / 4) / (2 * B)).epsilon(0.02));
  // Half a line is no sub-torus: the torus algorithm refuses it, auto runs a ring.
  const std::vector<int> half{0, 1, 2, 3};
  CHECK_FALSE(
      collective_unsupported(f.topo, CollectiveRequest{CollectiveKind::AllGather, half, S, 0}, "torus").empty());
  CHECK(run_collective(f.topo, CollectiveKind::AllGather, half, S, "auto").algorithm != "torus");
}

TEST_CASE("device mesh: TP 8 x FSDP 16 on a 4x4x8 slice takes the 8-long axis for TP, the 4x4 plane for FSDP",
          "[training]") {
  const std::vector<int> dims{4, 4, 8};
  const MeshPlacement m = torus_axes_placement({8, 1, 16, 1}, {"tp", "cp", "dp", "pp"}, dims);
  REQUIRE(m.device.size() == 128);
  CHECK(std::set<int>(m.device.begin(), m.device.end()).size() == 128);  // a permutation
  for (int d = 0; d < 16; ++d) {
    // TP group of DP rank d: one line along dimension 2 (x, y fixed, all 8 z).
    std::set<int> zs;
    for (int t = 0; t < 8; ++t) {
      const int dev = m.device[static_cast<std::size_t>(t + 8 * d)];
      CHECK(coord(dev, dims, 0) == coord(m.device[static_cast<std::size_t>(8 * d)], dims, 0));
      CHECK(coord(dev, dims, 1) == coord(m.device[static_cast<std::size_t>(8 * d)], dims, 1));
      zs.insert(coord(dev, dims, 2));
    }
    CHECK(zs.size() == 8);
  }
  for (int t = 0; t < 8; ++t) {
    // FSDP group of TP rank t: the whole x-y plane at one z.
    std::set<int> xy;
    for (int d = 0; d < 16; ++d) {
      const int dev = m.device[static_cast<std::size_t>(t + 8 * d)];
      CHECK(coord(dev, dims, 2) == coord(m.device[static_cast<std::size_t>(t)], dims, 2));
      xy.insert(coord(dev, dims, 0) + 4 * coord(dev, dims, 1));
    }
    CHECK(xy.size() == 16);
  }
  // Megatron's order already fits a 12x16x16 pod under TP 12 (C8) and 512 FSDP ranks on 8x8x8.
  const MeshPlacement c8 = torus_axes_placement({12, 1, 256, 1}, {"tp", "cp", "dp", "pp"}, {12, 16, 16});
  for (std::size_t r = 0; r < c8.device.size(); ++r) REQUIRE(c8.device[r] == static_cast<int>(r));
  // 8 is no product of whole axes of 4x4x4: no mesh (JAX refuses it), ranks keep their order.
  const MeshPlacement no = torus_axes_placement({8, 1, 8, 1}, {"tp", "cp", "dp", "pp"}, {4, 4, 4});
  CHECK(no.device.empty());
  CHECK(no.note.find("tp 8 is no product") != std::string::npos);
}

TEST_CASE("device mesh: llmsim check shows C36's TP groups on a torus line under jax-tpu", "[training][cli]") {
  auto o =
      llmsim_test::run_cli("check topologies/tpu-v5p-128.yaml workloads/calibration/c36-maxtext-128b-tpu-v5p.yaml");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  CHECK(o.text.find("tp 8 on torus dim 2 (8); dp 16 on torus dims 0,1 (4 x 4)") != std::string::npos);
  // Stride 16 = 4 x 4: the TP ranks walk dimension 2.
  CHECK(o.text.find("first {0, 16 .. 112 step 16}") != std::string::npos);
}

TEST_CASE("FSDP: a pass waits for its first layer's parameters, not the whole chunk's", "[training][cli]") {
  const std::string dir = llmsim_test::make_tmpdir("fsdp-layer");
  // Llama 3.1 8B (32 layers) with ZeRO-3 over all 64 chips of a v5p cube, no TP.
  std::ofstream(dir + "/train.yaml") << "kind: training\nsoftware: jax-tpu\nmodel: llama-3.1-8b\ndtype: bf16\n"
                                        "seq_len: 2048\nglobal_batch: 64\nmicro_batch: 1\nsteps: 1\n"
                                        "parallelism: {tp: 1, pp: 1, dp: 64, zero: 3, recompute: full}\n";
  auto o = llmsim_test::run_cli("run --quiet -t topologies/tpu-v5p-64.yaml -w " + dir + "/train.yaml -o " + dir +
                                "/out --timeline");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  // The forward's start on tpu0 = the first layer's gather.
  const json tl = json::parse(llmsim_test::slurp(dir + "/out/timeline.json"));
  const json& ev = tl.is_object() ? tl["traceEvents"] : tl;
  int tpu0 = -1;
  for (const auto& e : ev)
    if (e.value("ph", "") == "M" && e.value("name", "") == "process_name" && e["args"].value("name", "") == "tpu0")
      tpu0 = e["pid"].get<int>();
  double f0 = -1;
  for (const auto& e : ev)
    if (e.value("ph", "") == "X" && e.value("pid", -1) == tpu0 && e.value("name", "") == "F0")
      f0 = e["ts"].get<double>() * 1e-6;
  REQUIRE(f0 > 0);
  // The whole model's 16-bit gather alone, as a microbenchmark on the same chips and library:
  // 32 layers + embeddings, of which the first pass waits for one layer's 1/32 share.
  const double params = 32 * (4096.0 * (32 + 2 * 8) * 128 + 4096.0 * 4096 + 3 * 4096.0 * 14336) + 2 * 128256.0 * 4096;
  std::ofstream(dir + "/ag.yaml") << "kind: microbench\nsoftware: jax-tpu\nops:\n  - {op: allgather, sizes: ["
                                  << params * 2 << " B], group: all, algorithm: auto}\n";
  auto m = llmsim_test::run_cli("run --quiet -t topologies/tpu-v5p-64.yaml -w " + dir + "/ag.yaml -o " + dir + "/ag");
  INFO(m.text);
  REQUIRE(m.rc == 0);
  const json mb = json::parse(llmsim_test::slurp(dir + "/ag/summary.json"))["microbench"];
  const double whole = mb[0]["time_s"].get<double>();
  // One layer's share costs 1/32 of the bandwidth time plus the same per-step latencies.
  CHECK(f0 < whole / 8);
  CHECK(f0 == Approx(whole / 32).epsilon(0.35));
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace test_training_tpu_mesh
