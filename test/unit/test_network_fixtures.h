// Small topologies for the network and collective tests, as YAML text through the real
// loader (so the tests see the same links, switches and routes a user's file would).
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/core/yaml_doc.h"
#include "sim/spec/chip.h"
#include "sim/topo/topology.h"

struct TopologyFixture {
  llmsim::ChipCatalog catalog{llmsim::default_catalog_dir()};
  llmsim::Topology topo;
  // `name` is where the document pretends to live (relative `nodes:` references).
  explicit TopologyFixture(const std::string& yaml, const std::string& name = "topologies/test-inline.yaml")
      : topo(llmsim::load_topology(llmsim::parse_doc(yaml, std::string(LLMSIM_SOURCE_DIR) + "/" + name), catalog)) {}
};

// A file of the source tree as text (a shipped topology, for TopologyFixture).
inline std::string source_text(const std::string& rel) {
  std::ifstream in(std::string(LLMSIM_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Devices 0 .. n-1: a collective group over the first n devices.
inline std::vector<int> iota(int n) {
  std::vector<int> g;
  for (int i = 0; i < n; ++i) g.push_back(i);
  return g;
}

inline std::string ring_yaml(int n, const std::string& bw, const std::string& lat, const std::string& extra = "") {
  return "name: test-ring\ndevice: nvidia-h100-sxm\ncount: " + std::to_string(n) +
         "\nfabrics:\n  - {name: r, type: nvlink, shape: ring, link: {bandwidth: " + bw + ", latency: " + lat +
         (extra.empty() ? "" : ", " + extra) + "}}\n";
}

inline std::string torus_yaml(int x, int y, int z, const std::string& bw = "100 GB/s") {
  return "name: test-torus\ndevice: google-tpu-v4\ncount: " + std::to_string(x * y * z) +
         "\nfabrics:\n  - {name: ici, type: ici, shape: torus, dims: [" + std::to_string(x) + ", " + std::to_string(y) +
         ", " + std::to_string(z) + "], link: {bandwidth: " + bw + ", latency: 1 us}}\n";
}

inline std::string dgx_yaml() {
  return "name: test-dgx\ndevice: nvidia-h100-sxm\ncount: 8\nfabrics:\n"
         "  - {name: nvlink, type: nvlink, shape: switch, in_network_reduction: true,\n"
         "     link: {bandwidth: 450 GB/s, latency: 1 us}}\n";
}

// gpu0 -(10 GB/s)- gpu1 -(20 GB/s)- gpu2, zero latency: the max-min example.
inline std::string chain_yaml() {
  return "name: test-chain\ndevice: nvidia-h100-sxm\ncount: 3\nfabrics:\n"
         "  - name: p\n    type: p2p\n    shape: links\n    link: {bandwidth: 10 GB/s, latency: 0 us}\n"
         "    links:\n      - {a: gpu0, b: gpu1, bandwidth: 10 GB/s}\n      - {a: gpu1, b: gpu2, bandwidth: 20 GB/s}\n";
}

// A DGX H100 SuperPOD slice: `nodes` DGX H100 nodes, 8 rails of 400 Gb/s per GPU into a
// rail-optimised fat tree (CHIPS.md, [NV-SPOD-H100-net]).
inline std::string superpod_yaml(int nodes) {
  return "name: test-superpod\nnodes: {topology: dgx-h100.yaml, count: " + std::to_string(nodes) +
         "}\nfabrics:\n  - {name: ib, type: infiniband, shape: fat-tree, radix: 64, rails: 8,\n"
         "     link: {bandwidth: 400 Gb/s, latency: 2 us}}\n";
}
