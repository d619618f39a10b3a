// TPU v5p slices (topologies/tpu-v5p-*.yaml) against CHIPS.md section 6 and S5: a 3-D torus
// with wraparound, 6 ICI ports per chip of 1,200 GB/s bidirectional in all, cube faces on
// the OCS, one 50 Gb/s DCN share per chip, and no route inside a slice leaving the ICI.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>

#include "sim/topo/topology.h"

namespace test_topology_v5p {

using namespace llmsim;

TEST_CASE("topology: TPU v5p slices are wrapped 3-D tori with 1,200 GB/s of ICI per chip", "[topology]") {
  ChipCatalog cat(default_catalog_dir());
  const std::map<int, std::vector<int>> slices{
      {64, {4, 4, 4}}, {128, {4, 4, 8}}, {512, {8, 8, 8}}, {2048, {8, 16, 16}}};
  for (const auto& [n, dims] : slices) {
    const std::string f = std::string(LLMSIM_SOURCE_DIR) + "/topologies/tpu-v5p-" + std::to_string(n) + ".yaml";
    INFO(f);
    Topology t = load_topology(load_doc(f), cat);
    REQUIRE(t.num_devices() == n);
    CHECK(t.torus_dims() == dims);
    std::vector<double> ici(static_cast<std::size_t>(n), 0), dcn(static_cast<std::size_t>(n), 0);
    std::vector<int> ports(static_cast<std::size_t>(n), 0);
    int ocs = 0;
    for (const LinkInfo& l : t.links) {
      if (l.fabric == "dcn") {
        if (l.a < n) dcn[static_cast<std::size_t>(l.a)] += l.params.bandwidth;
        if (l.b < n) dcn[static_cast<std::size_t>(l.b)] += l.params.bandwidth;
        continue;
      }
      ocs += l.params.kind == "ocs";
      for (int v : {l.a, l.b}) {
        ici[static_cast<std::size_t>(v)] += 2 * l.params.bandwidth;  // both directions
        ++ports[static_cast<std::size_t>(v)];
      }
    }
    for (int d = 0; d < n; ++d) {
      CHECK(ports[static_cast<std::size_t>(d)] == 6);
      CHECK(ici[static_cast<std::size_t>(d)] == Approx(1200e9));    // [TPUv5p-doc]: 1,200 GB/s bidir per chip
      CHECK(dcn[static_cast<std::size_t>(d)] == Approx(50e9 / 8));  // 50 Gb/s per chip
    }
    // Each 4x4x4 cube has 6 faces of 16 links through the OCS; a link joins two faces.
    CHECK(ocs == n / 64 * 96 / 2);
    // The farthest chip: half of each dimension away, hop by hop on the ICI (1 us each).
    const int far = dims[0] / 2 + dims[0] * (dims[1] / 2 + dims[1] * (dims[2] / 2));
    const Route r = t.route(0, far);
    const int hops = dims[0] / 2 + dims[1] / 2 + dims[2] / 2;
    CHECK(static_cast<int>(r.hops.size()) == hops);
    CHECK(r.latency == Approx(hops * 1e-6));
    for (DirLink h : r.hops) CHECK(t.links[static_cast<std::size_t>(dirlink_link(h))].fabric == "ici");
  }
}

}  // namespace test_topology_v5p
