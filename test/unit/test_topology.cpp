// Topology loading, shapes, routing and metrics against closed-form figures.
#include <catch2/catch.hpp>

#include <set>

#include "sim/topo/topology.h"

namespace test_topology {

using namespace llmsim;

namespace {

const std::string kDir = std::string(LLMSIM_SOURCE_DIR) + "/test/data/topo/";

Topology load(const std::string& yaml) {
  ChipCatalog cat(kDir);
  Doc d = parse_doc(yaml, kDir + "inline.yaml");
  return load_topology(d, cat);
}

std::string flat(int n, const std::string& fabric) {
  return "device: test-chip.yaml\ncount: " + std::to_string(n) + "\nfabrics:\n  - " + fabric + "\n";
}

std::vector<int> path_vertices(const Topology& t, const Route& r, int src) {
  std::vector<int> p{src};
  for (DirLink d : r.hops) {
    const LinkInfo& l = t.links[static_cast<size_t>(dirlink_link(d))];
    p.push_back(dirlink_dir(d) == 0 ? l.b : l.a);
  }
  return p;
}

std::string input_error(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const InputError& e) {
    return e.located();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("topology: ring link count, diameter, bisection, shorter-way routing", "[topology]") {
  Topology t = load(flat(8, "{name: r, type: p2p, shape: ring, link: {bandwidth: 100 GB/s, latency: 1 us}}"));
  CHECK(t.num_devices() == 8);
  CHECK(t.links.size() == 8);
  CHECK(t.diameter_hops() == 4);
  CHECK(t.bisection_bandwidth() == Approx(2 * 100e9));
  CHECK(t.injection_bandwidth(0) == Approx(200e9));
  const Route& r = t.route(0, 5);  // 3 hops backwards beats 5 forwards
  CHECK(path_vertices(t, r, 0) == std::vector<int>{0, 7, 6, 5});
  CHECK(r.latency == Approx(3e-6));
  CHECK(r.bottleneck == Approx(100e9));
  // A tie (4 either way) goes the + way.
  CHECK(path_vertices(t, t.route(0, 4), 0) == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("topology: 4x4x4 torus counts, bisection 2*N/max_dim links, dimension-order routes", "[topology]") {
  Topology t = load(flat(64, "{name: ici, type: ici, shape: torus, dims: [4, 4, 4], link: {bandwidth: 50 GB/s, latency: 1 us}}"));
  CHECK(t.links.size() == 3 * 64);
  CHECK(t.torus_dims() == std::vector<int>{4, 4, 4});
  CHECK(t.diameter_hops() == 6);
  CHECK(t.bisection_bandwidth() == Approx(2.0 * 64 / 4 * 50e9));  // 32 links
  CHECK(t.injection_bandwidth(0) == Approx(6 * 50e9));
  int dst = 3 + 4 * (2 + 4 * 1);  // (3,2,1)
  const Route& r = t.route(0, dst);
  std::vector<int> dims;
  for (DirLink d : r.hops) dims.push_back(t.links[static_cast<size_t>(dirlink_link(d))].dim);
  // x: 0 -> 3 one hop backwards (wrap); y: 0 -> 2 tie goes +; z: one hop.
  CHECK(dims == std::vector<int>{0, 1, 1, 2});
  CHECK(path_vertices(t, r, 0) == std::vector<int>{0, 3, 7, 11, 27});
  // Same answer twice, and from a fresh load (determinism).
  Topology t2 = load(flat(64, "{name: ici, type: ici, shape: torus, dims: [4, 4, 4], link: {bandwidth: 50 GB/s, latency: 1 us}}"));
  CHECK(t2.route(0, dst).hops == r.hops);
}

TEST_CASE("topology: mesh has no wraparound", "[topology]") {
  Topology t = load(flat(16, "{name: m, type: torus-noc, shape: mesh, dims: [4, 4], link: {bandwidth: 32 GB/s}}"));
  CHECK(t.links.size() == 2 * 4 * 3);
  CHECK(t.diameter_hops() == 6);
  CHECK(t.bisection_bandwidth() == Approx(4 * 32e9));
  CHECK(t.route(0, 3).hops.size() == 3);
}

TEST_CASE("topology: fully connected and switch planes", "[topology]") {
  Topology fc = load(flat(8, "{name: if, type: infinity-fabric, shape: fully-connected, link: {bandwidth: 64 GB/s, latency: 1 us}}"));
  CHECK(fc.links.size() == 28);
  CHECK(fc.diameter_hops() == 1);
  CHECK(fc.bisection_bandwidth() == Approx(16 * 64e9));
  CHECK(fc.injection_bandwidth(3) == Approx(7 * 64e9));
  Topology sw = load(flat(8, "{name: nv, type: nvlink, shape: switch, planes: 4, link: {bandwidth: 100 GB/s}}"));
  CHECK(sw.num_switches() == 4);
  CHECK(sw.links.size() == 32);
  CHECK(sw.injection_bandwidth(0) == Approx(400e9));
  CHECK(sw.diameter_hops() == 2);
  // Planes are spread by (src + dst) mod planes.
  CHECK(path_vertices(sw, sw.route(1, 2), 1)[1] == 8 + 3);
}

TEST_CASE("topology: k-ary fat trees match the folded-Clos formulas", "[topology]") {
  // radix 16, two levels: 128 hosts, 16 leaves x 8 up = 128 leaf-spine ports / 16 = 8 spines.
  Topology t2 = load(flat(128, "{name: ib, type: infiniband, shape: fat-tree, radix: 16, link: {bandwidth: 50 GB/s, latency: 1 us}}"));
  CHECK(t2.num_switches() == 16 + 8);
  CHECK(t2.links.size() == 128 + 16 * 8);
  CHECK(t2.diameter_hops() == 4);
  CHECK(t2.bisection_bandwidth() == Approx(64 * 50e9));
  // Three levels: k^3/4 = 1024 hosts, 3k^3/4 = 3072 links, (k/2)^2 = 64 cores.
  Topology t3 = load(flat(1024, "{name: ib, type: infiniband, shape: fat-tree, radix: 16, link: {bandwidth: 50 GB/s, latency: 1 us}}"));
  CHECK(t3.num_switches() == 128 + 128 + 64);
  CHECK(t3.links.size() == 3072);
  CHECK(t3.diameter_hops() == 6);
  CHECK(t3.route(0, 1023).hops.size() == 6);
  CHECK(t3.route(0, 1).hops.size() == 2);
  // 3:1 oversubscribed leaves: 12 down, 4 up; bisection = half the leaf uplinks.
  Topology os = load(flat(48, "{name: ib, type: infiniband, shape: fat-tree, radix: 16, oversubscription: 3, link: {bandwidth: 50 GB/s}}"));
  CHECK(os.num_switches() == 4 + 1);
  CHECK(os.bisection_bandwidth() == Approx(4 * 4 * 50e9 / 2));
}

TEST_CASE("topology: hierarchy names, node/local rank, rail-aligned routes", "[topology]") {
  Topology t = load("nodes: {topology: node8.yaml, count: 4}\nfabrics:\n"
                    "  - {name: ib, type: infiniband, shape: fat-tree, rails: 8, radix: 64, link: {bandwidth: 400 Gb/s, latency: 1 us}}\n");
  CHECK(t.num_devices() == 32);
  CHECK(t.nodes == 4);
  CHECK(t.devices_per_node == 8);
  CHECK(t.device_by_name("node3.gpu5") == 29);
  CHECK(t.device_by_name("gpu29") == 29);   // global alias
  CHECK(t.device_by_name("node9.gpu0") == -1);
  CHECK(t.vertices[29].node == 3);
  CHECK(t.vertices[29].local_rank == 5);
  CHECK(t.num_switches() == 4 + 8 + 4);  // NVSwitch per node, a leaf per rail, 8*32/64 spines
  // Same rail: GPU -> its rail's leaf -> GPU.
  auto p = path_vertices(t, t.route(5, 29), 5);
  REQUIRE(p.size() == 3);
  CHECK(t.vertices[static_cast<size_t>(p[1])].name == "ib.leaf5");
  // Cross rail: over NVLink to the GPU on the destination's rail first (PXN), then rail 5.
  p = path_vertices(t, t.route(2, 29), 2);
  REQUIRE(p.size() == 5);
  CHECK(t.vertices[static_cast<size_t>(p[1])].name == "node0.nvlink.sw0");
  CHECK(p[2] == 5);
  CHECK(t.vertices[static_cast<size_t>(p[3])].name == "ib.leaf5");
  // Inside a node: NVLink only.
  CHECK(path_vertices(t, t.route(8, 9), 8)[1] == t.vertex_by_name("node1.nvlink.sw0"));
  CHECK(t.injection_bandwidth(0) == Approx(450e9 + 50e9));
  CHECK(t.bisection_bandwidth() == Approx(16 * 50e9));
}

TEST_CASE("topology: explicit links route by latency, ties to fewer hops then lower ids", "[topology]") {
  std::string y = "device: test-chip.yaml\ncount: 4\nfabrics:\n  - name: p\n    type: p2p\n    shape: links\n"
                  "    link: {bandwidth: 10 GB/s, latency: 1 us}\n    links:\n"
                  "      - {a: gpu0, b: gpu2}\n      - {a: gpu2, b: gpu3}\n      - {a: gpu0, b: gpu1}\n"
                  "      - {a: gpu1, b: gpu3}\n      - {a: gpu0, b: gpu3, latency: 5 us}\n";
  Topology t = load(y);
  CHECK(path_vertices(t, t.route(0, 3), 0) == std::vector<int>{0, 1, 3});  // 2 us beats 5 us; via lower id
  CHECK(t.route(0, 3).latency == Approx(2e-6));
  CHECK(t.bisection_bandwidth() == Approx(3 * 10e9));  // {0,1} | {2,3}: 0-2, 1-3, 0-3
}

TEST_CASE("topology: positioned errors", "[topology]") {
  CHECK_THAT(input_error("device: nope-chip\ncount: 2\n"), Catch::Contains("inline.yaml:1:9: unknown device 'nope-chip'"));
  CHECK_THAT(input_error(flat(4, "{name: r, type: p2p, shape: ring, link: {bandwidth: -5 GB/s}}")),
             Catch::Contains("must be positive"));
  CHECK_THAT(input_error(flat(4, "{name: r, type: p2p, shape: ring, link: {bandwidth: 5}}")), Catch::Contains("inline.yaml:4:"));
  CHECK_THAT(input_error(flat(8, "{name: t, type: ici, shape: torus, dims: [3, 3], link: {bandwidth: 5 GB/s}}")),
             Catch::Contains("dims multiply to 9"));
  CHECK_THAT(input_error("device: test-chip.yaml\ncount: 4\nfabrics:\n  - {name: p, type: p2p, shape: links, link: {bandwidth: 1 GB/s}, links: [{a: gpu0, b: gpu9}]}\n"),
             Catch::Contains("unknown endpoint 'gpu9'"));
  CHECK_THAT(input_error("device: test-chip.yaml\ncount: 4\nfabrics:\n  - {name: p, type: p2p, shape: links, link: {bandwidth: 1 GB/s}, links: [{a: gpu0, b: gpu1}, {a: gpu2, b: gpu3}]}\n"),
             Catch::Contains("inline.yaml:4:3: network is disconnected: 4 devices fall into 2 partitions: {gpu0, gpu1} (2 devices) | {gpu2, gpu3}"));
  CHECK_THAT(input_error("device: test-chip.yaml\ncount: 4\nfabrics:\n  - {name: p, type: p2p, shape: links, link: {bandwidth: 1 GB/s}, links: [{a: gpu0, b: gpu1}, {a: gpu1, b: gpu0}]}\n"),
             Catch::Contains("duplicate link"));
  CHECK_THAT(input_error(flat(4, "{name: r, type: p2p, shape: rign, link: {bandwidth: 5 GB/s}}")), Catch::Contains("'rign' is not one of"));
  CHECK_THAT(input_error(flat(4, "{name: r, type: p2p, shape: ring, lnk: {bandwidth: 5 GB/s}}")), Catch::Contains("unknown field 'lnk' (did you mean 'link'? it is required)"));
  CHECK_THAT(input_error(flat(4, "{name: r, type: p2p, shape: ring, link: {bandwidth: 5 GB/s, latncy: 1 us}}")),
             Catch::Contains("unknown field 'latncy' (did you mean 'latency'?)"));
  CHECK_THAT(input_error("device: test-chip.yaml\ncount: 2\n"), Catch::Contains("network is disconnected"));
}

namespace {

// Every route is a contiguous walk from src to dst whose latency and bottleneck are the sums
// and minimum of its links (plus switch latencies).
void check_all_routes(const Topology& t, int stride) {
  for (int s = 0; s < t.num_devices(); s += stride) {
    for (int d = 0; d < t.num_devices(); d += stride) {
      const Route r = t.route(s, d);
      int at = s;
      double lat = 0, bw = 1e300;
      for (size_t i = 0; i < r.hops.size(); ++i) {
        const LinkInfo& l = t.links[static_cast<size_t>(dirlink_link(r.hops[i]))];
        int from = dirlink_dir(r.hops[i]) == 0 ? l.a : l.b;
        REQUIRE(from == at);
        at = dirlink_dir(r.hops[i]) == 0 ? l.b : l.a;
        lat += l.params.latency + (i > 0 ? t.vertices[static_cast<size_t>(from)].switch_latency : Seconds{0});
        bw = std::min(bw, l.params.bandwidth.value());
        if (i + 1 < r.hops.size()) REQUIRE(at != d);
      }
      REQUIRE(at == d);
      REQUIRE(r.latency == Approx(lat));
      if (s != d) REQUIRE(r.bottleneck == Approx(bw));
    }
  }
}

}  // namespace

TEST_CASE("topology: every route of the shipped systems is a valid walk", "[topology]") {
  ChipCatalog cat(default_catalog_dir());
  const std::string dir = std::string(LLMSIM_SOURCE_DIR) + "/topologies/";
  for (const char* f :
       {"dgx-h100.yaml", "superpod-h100-32node.yaml", "mi300x-8.yaml", "tpu-v4-4x4x4.yaml", "ipu-pod16.yaml",
        "groqrack.yaml", "gaudi3-8.yaml", "grayskull-4.yaml", "dgx-a100.yaml", "gaudi2-8.yaml"}) {
    INFO(f);
    Topology t = load_topology(load_doc(dir + f), cat);
    check_all_routes(t, 1);
  }
  Topology big = load_topology(load_doc(dir + "h100-16k.yaml"), cat);
  check_all_routes(big, 997);  // a prime stride samples every rail, node and pod pairing
  CHECK(big.route(0, 16383).hops.size() == 8);  // NVLink to rail 7, then leaf-spine-core-spine-leaf
  // MemoryX is a switch vertex reached from the wafer.
  Topology cs2 = load_topology(load_doc(dir + "cs2.yaml"), cat);
  CHECK(cs2.route(0, cs2.vertex_by_name("memoryx")).hops.size() == 1);
  CHECK(cs2.route(0, cs2.vertex_by_name("memoryx")).bottleneck == Approx(150e9));
}

TEST_CASE("topology: torus blocks mark links that leave a block (TPU v4 cubes through the OCS)", "[topology]") {
  Topology t = load(flat(64, "{name: ici, type: ici, shape: torus, dims: [8, 8], block: [4, 4], block_link: {kind: ocs, latency: 3 us}, "
                             "link: {bandwidth: 50 GB/s, latency: 1 us}}"));
  int ocs = 0;
  for (const auto& l : t.links) {
    if (l.params.kind != "ocs") continue;
    ++ocs;
    CHECK(l.params.latency == Approx(3e-6));
    CHECK(l.params.bandwidth == Approx(50e9));  // inherited from `link`
  }
  CHECK(ocs == 2 * 8 * 2);  // per dimension: 2 block faces per line x 8 lines
  CHECK(t.links.size() == 128);
  ChipCatalog cat(default_catalog_dir());
  Topology pod = load_topology(load_doc(std::string(LLMSIM_SOURCE_DIR) + "/topologies/tpu-v4-pod.yaml"), cat);
  int pod_ocs = 0;
  for (const auto& l : pod.links) pod_ocs += l.params.kind == "ocs";
  CHECK(pod_ocs == 3072);  // 64 cubes x 96 face links / 2 ends ([K-TPUv4]: 6,144 optical link ends)
  CHECK_THAT(input_error(flat(64, "{name: ici, type: ici, shape: torus, dims: [8, 8], block: [3, 4], block_link: {kind: ocs}, link: {bandwidth: 5 GB/s}}")),
             Catch::Contains("each size must divide its dimension"));
}

TEST_CASE("topology: shipped Groq, Gaudi 3 and SuperPOD figures", "[topology]") {
  ChipCatalog cat(default_catalog_dir());
  const std::string dir = std::string(LLMSIM_SOURCE_DIR) + "/topologies/";
  // GroqRack: 4 links per node pair on cards round-robin = 4 global ports on every card.
  Topology rack = load_topology(load_doc(dir + "groqrack.yaml"), cat);
  std::vector<int> global(72, 0);
  for (const auto& l : rack.links)
    if (l.fabric == "global") ++global[static_cast<size_t>(l.a)], ++global[static_cast<size_t>(l.b)];
  for (int g : global) CHECK(g == 4);
  CHECK(rack.injection_bandwidth(0) == Approx((7 + 4) * 14e9));
  // Three-level names.
  Topology g576 = load_topology(load_doc(dir + "groq-576.yaml"), cat);
  CHECK(g576.num_devices() == 576);
  CHECK(g576.device_by_name("rack3.node2.tsp5") == 3 * 72 + 2 * 8 + 5);
  CHECK(g576.vertices[3 * 72 + 21].node == 3);
  CHECK(g576.vertices[3 * 72 + 21].local_rank == 21);
  // Gaudi 3: 3 x 200 GbE per peer (7 peers) + 3 x 200 GbE scale-out = 24 x 25 GB/s.
  Topology hls = load_topology(load_doc(dir + "gaudi3-8.yaml"), cat);
  CHECK(hls.injection_bandwidth(0) == Approx(24 * 25e9));
  CHECK(hls.route(0, 1).hops.size() == 1);  // scale-up beats scale-out
  // SuperPOD: same rail in one SU is one leaf away; latency = 2 links + 1 switch.
  Topology sp = load_topology(load_doc(dir + "superpod-h100-32node.yaml"), cat);
  const Route& r = sp.route(sp.device_by_name("node0.gpu3"), sp.device_by_name("node31.gpu3"));
  CHECK(r.hops.size() == 2);
  CHECK(r.latency == Approx(2 * 1e-6 + 0.2e-6));
  CHECK(r.bottleneck == Approx(50e9));
  CHECK(sp.vertices[static_cast<size_t>(sp.vertex_by_name("ib.leaf3"))].in_network_reduction);
}

}  // namespace test_topology
