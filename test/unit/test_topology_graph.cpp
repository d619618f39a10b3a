// Topology graph algorithms (Boost.Graph: max flow, BFS, components) on irregular `links`
// fabrics, whose figures are worked out by hand here, and the shape registry (issue 10).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sim/topo/shapes/shape.h"
#include "sim/topo/topology.h"

namespace test_topology_graph {

using namespace llmsim;

namespace {

const std::string kDir = std::string(LLMSIM_SOURCE_DIR) + "/test/data/topo/";

Topology load(const std::string& yaml) {
  ChipCatalog cat(kDir);
  Doc d = parse_doc(yaml, kDir + "inline.yaml");
  return load_topology(d, cat);
}

std::string error_of(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const InputError& e) {
    return e.located();
  }
  return "(no error)";
}

// Four devices with an explicit `links:` list (an irregular fabric: no closed forms).
std::string four_devices(const std::string& switches, const std::string& links) {
  return "device: test-chip.yaml\ncount: 4\nfabrics:\n"
         "  - {name: p, type: p2p, shape: links, link: {bandwidth: 1 GB/s}, " +
         switches + "links: [" + links + "]}\n";
}

}  // namespace

TEST_CASE("topology graph: bisection of a links fabric is the minimum cut between the device halves",
          "[topology]") {
  // Halves {gpu0, gpu1} | {gpu2, gpu3}; every link crosses or not: the cut is the sum of
  // the crossing links, 10 + 20 + 5 GB/s.
  Topology direct = load(four_devices("", "{a: gpu0, b: gpu1, bandwidth: 100 GB/s}, {a: gpu2, b: gpu3, bandwidth: 100 GB/s},"
                                          "{a: gpu0, b: gpu2, bandwidth: 10 GB/s}, {a: gpu1, b: gpu3, bandwidth: 20 GB/s},"
                                          "{a: gpu0, b: gpu3, bandwidth: 5 GB/s}"));
  CHECK(direct.bisection_bandwidth() == Approx(35e9));
  // A switch may sit on either side: the minimum cut puts it with the first half (its
  // 30 + 30 GB/s downlinks to gpu2, gpu3, plus the direct 5 GB/s link), not with the
  // second (100 + 100 + 5).
  Topology via_switch = load(four_devices("switches: [s], ", "{a: gpu0, b: s, bandwidth: 100 GB/s}, {a: gpu1, b: s, bandwidth: 100 GB/s},"
                                                              "{a: s, b: gpu2, bandwidth: 30 GB/s}, {a: s, b: gpu3, bandwidth: 30 GB/s},"
                                                              "{a: gpu0, b: gpu2, bandwidth: 5 GB/s}"));
  CHECK(via_switch.bisection_bandwidth() == Approx(65e9));
  // A path gpu0 - gpu1 - gpu2 - gpu3 (3 hops end to end).
  CHECK(load(four_devices("", "{a: gpu0, b: gpu1}, {a: gpu1, b: gpu2}, {a: gpu2, b: gpu3}")).diameter_hops() == 3);
  CHECK(via_switch.diameter_hops() == 2);
}

TEST_CASE("topology graph: partitions are named in order of their first device", "[topology]") {
  CHECK_THAT(error_of(four_devices("", "{a: gpu0, b: gpu3}, {a: gpu1, b: gpu2}")),
             Catch::Contains("4 devices fall into 2 partitions: {gpu0, gpu3} (2 devices) | {gpu1, gpu2} (2 devices)"));
  // A switch-only island is no partition of devices.
  CHECK(error_of(four_devices("switches: [s, t], ", "{a: gpu0, b: gpu1}, {a: gpu1, b: gpu2}, {a: gpu2, b: gpu3}, {a: s, b: t}")) ==
        "(no error)");
}

TEST_CASE("topology graph: shapes register by name and an unknown shape lists them", "[topology]") {
  using topo_detail::ShapeRegistry;
  const std::vector<std::string> shapes = {"fat-tree", "fully-connected", "links", "mesh", "ring", "switch", "torus"};
  CHECK(ShapeRegistry::names() == shapes);
  CHECK(ShapeRegistry::get("star") == nullptr);
  CHECK_FALSE(ShapeRegistry::link_required("links"));
  CHECK(ShapeRegistry::link_required("ring"));
  CHECK_THAT(error_of("device: test-chip.yaml\ncount: 4\nfabrics:\n  - {name: r, type: p2p, shape: star, link: {bandwidth: 5 GB/s}}\n"),
             Catch::Contains("'star' is not one of: fat-tree, fully-connected, links, mesh, ring, switch, torus"));
}

}  // namespace test_topology_graph
