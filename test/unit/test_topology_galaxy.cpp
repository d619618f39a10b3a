// Wormhole Galaxy (topologies/wormhole-galaxy.yaml, CALIBRATION C39): its figures against
// CHIPS.md S11 and closed forms. The Galaxy device is the n300 device's Wormhole die with all
// 80 Tensix enabled: per-core figures equal the n300's, per-chip totals scale by 80 / 64.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "sim/topo/topology.h"

namespace test_topology_galaxy {

using namespace llmsim;

namespace {

const std::string kDir = std::string(LLMSIM_SOURCE_DIR) + "/topologies/";

}  // namespace

TEST_CASE("galaxy: the Galaxy device is the n300's die with 80 Tensix", "[topology][catalog]") {
  ChipCatalog cat(default_catalog_dir());
  const ChipSpec& g = cat.get("tenstorrent-wormhole-galaxy");
  const ChipSpec& n = cat.get("tenstorrent-wormhole-n300");
  CHECK(g.compute.units == 80);  // CHIPS.md S11: 32 ASICs x 80 Tensix
  CHECK(g.clock == n.clock);
  CHECK(g.compute.unit_buffer == n.compute.unit_buffer);
  for (const char* dt : {"bf16", "fp16", "fp8"}) {
    INFO(dt);
    CHECK(g.compute.peak.at(dt) / n.compute.peak.at(dt) == Approx(80.0 / 64).epsilon(0.005));
  }
  CHECK(g.compute.vector_peak / n.compute.vector_peak == Approx(80.0 / 64).epsilon(0.005));
  const MemoryTierSpec* gs = g.tier("sram");
  const MemoryTierSpec* ns = n.tier("sram");
  REQUIRE(gs);
  REQUIRE(ns);
  CHECK(gs->capacity.value() == 80 * 1464 * 1024.0);  // L1 1464 KiB per core [TT-ISA-L1]
  CHECK(gs->bandwidth / ns->bandwidth == Approx(80.0 / 64).epsilon(0.005));
  // Same GDDR6 per chip (12 channels); 384 GB over 32 chips = 12 GB each [TT-DRA].
  CHECK(g.main_tier().bandwidth == n.main_tier().bandwidth);
  CHECK(g.main_tier().capacity.value() == 12.0 * (1 << 30));
  // The system's LoFi peak, 32 x 80 x 4096 FLOP/clk x 1 GHz: CHIPS.md S11's ~10.5 PF.
  CHECK(32.0 * g.compute.units * 4096 * g.clock.value() == Approx(10.5e15).epsilon(0.01));
}

TEST_CASE("galaxy: 4 x 8 Ethernet mesh of 32 chips, 50 GB/s per edge", "[topology]") {
  ChipCatalog cat(default_catalog_dir());
  Topology t = load_topology(load_doc(kDir + "wormhole-galaxy.yaml"), cat);
  REQUIRE(t.num_devices() == 32);
  CHECK(t.device_chip[0]->name == "tenstorrent-wormhole-galaxy");
  // A 4 x 8 mesh without wraparound: 8 rows of 3 links plus 4 columns of 7.
  CHECK(t.links.size() == 8 * 3 + 4 * 7);
  for (const auto& l : t.links) CHECK(l.params.bandwidth == Approx(400e9 / 8));
  // Device i = x + 4 y: a corner has 2 neighbours, an edge 3, the interior 4.
  CHECK(t.injection_bandwidth(0) == Approx(2 * 50e9));
  CHECK(t.injection_bandwidth(1) == Approx(3 * 50e9));
  CHECK(t.injection_bandwidth(5) == Approx(4 * 50e9));
  // Corner to corner: 3 + 7 hops of 2 us.
  const Route& r = t.route(0, 31);
  CHECK(r.hops.size() == 10);
  CHECK(r.latency == Approx(10 * 2e-6));
  CHECK(r.bottleneck == Approx(50e9));
}

// C39's 1-D layout (the row runs 2-D since the ninth landing: test_inference_tp2d.cpp; this
// is its sensitivity, docs/validation.md "C39"): Llama 3.1 70B on the Galaxy, one TP group
// of 32, batch 32, 72.5 tok/s per user measured. `auto` runs ttnn-ccl's ring, laid along the
// 4 x 8 mesh's one-hop links (a switchless fabric, docs/models.md "Collectives"); each
// 512 KiB all-reduce is ttnn-ccl's 20 us start-up plus 2 x 31 steps of (5 us + 16 KiB at
// 0.8 x 50 GB/s), 355 us, and a decode step at least 160 of them (2 per layer x 80) plus
// the weight stream (70.6 GB of fp8 over 32 chips at 288 GB/s x 0.90): 65.4 ms.
// Checked: the last user's decode steps 0-20 % above that floor (the rest is the
// element-wise ops at the Tensix vector rate, ~7 ms, and the host step, ~1.3 ms: 14 %
// today), the first user's TTFT above the all-reduce part alone, communication most of the
// run.
TEST_CASE("galaxy: C39 decode in 1-D TP is bound by 160 ring all-reduces a token on the mesh", "[calibration]") {
  const std::string dir = llmsim_test::make_tmpdir("galaxy");
  const int rc = llmsim_test::run_llmsim(
      "run --quiet -t topologies/wormhole-galaxy.yaml -w "
      "workloads/calibration/c39-wormhole-galaxy-llama31-70b.yaml -o '" +
          dir +
          "/out' "
          "--set workload.parallelism.tp_rows=0 --set workload.parallelism.tp_cols=0",
      dir + "/log");
  INFO(llmsim_test::slurp(dir + "/log"));
  REQUIRE(rc == 0);
  const std::string csv = llmsim_test::slurp(dir + "/out/requests.csv");
  const auto first = llmsim_test::csv_column(csv, "first_token_s"), finish = llmsim_test::csv_column(csv, "finish_s");
  const auto ttft = llmsim_test::csv_column(csv, "ttft_s");
  const auto out = llmsim_test::csv_column(csv, "output_tokens");
  REQUIRE(first.size() == 32);
  size_t last = 0, earliest = 0;
  for (size_t i = 0; i < first.size(); ++i) {
    if (first[i] > first[last]) last = i;
    if (first[i] < first[earliest]) earliest = i;
  }
  const double tpot = (finish[last] - first[last]) / (out[last] - 1);
  const double ring = 160 * (20e-6 + 62 * (5e-6 + 16384 / (0.8 * 50e9)));
  const double weights = 70.6e9 / 32 / (288e9 * 0.90);
  CHECK(tpot / (ring + weights) > 1.0);
  CHECK(tpot / (ring + weights) < 1.2);
  CHECK(ttft[earliest] > ring);
  auto s = nlohmann::json::parse(llmsim_test::slurp(dir + "/out/summary.json"));
  CHECK(s["inference"]["time_split"]["communication_fraction"].get<double>() > 0.6);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace test_topology_galaxy
