// A cluster topology loaded from YAML into a Boost.Graph: devices, switches and
// full-duplex links, with deterministic routes. Built once; read-only during a run.
#pragma once
#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/units.h"
#include "sim/core/yaml_doc.h"
#include "sim/spec/chip.h"

namespace llmsim {

struct LinkParams {
  std::string kind = "p2p";           // nvlink nvswitch-port infiniband roce ici ocs pcie
                                      // torus-noc ipu-link gw-link groq-c2c swarmx p2p ethernet
  BytesPerSecond bandwidth = 0;       // per direction
  Seconds latency = 0;                // per hop (wire + serdes + switch port)
  Seconds per_message_overhead = 0;   // software/NIC cost per message
  Bytes max_payload = 0;              // 0 = unlimited; messages are cut into chunks
  double pj_per_bit = 0;              // link energy
};

struct VertexInfo {
  enum class Kind { Device, Switch };
  Kind kind = Kind::Device;
  std::string name;        // "gpu0", "node3.gpu5", "leaf2", ...
  int device = -1;         // device index (Kind::Device), else -1
  int node = 0;            // node index in a hierarchy (0 for flat topologies)
  int local_rank = 0;      // index within its node
  bool in_network_reduction = false;  // switch supports NVLS/SHARP-style reduction
  Seconds switch_latency = 0;
};

struct LinkInfo {
  int a = -1, b = -1;      // vertex ids; direction 0 = a->b, 1 = b->a
  LinkParams params;
  std::string fabric;      // name of the fabric that created it
  int dim = -1;            // torus dimension (0,1,2) or -1
};

using TopoGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS,
                                        boost::no_property, boost::property<boost::edge_index_t, int>>;

// A directed use of a link: link * 2 + direction.
using DirLink = int;
inline int dirlink_link(DirLink d) { return d >> 1; }
inline int dirlink_dir(DirLink d) { return d & 1; }

struct Route {
  std::vector<DirLink> hops;
  Seconds latency = 0;                  // sum of link + switch latencies
  BytesPerSecond bottleneck = 0;        // min link bandwidth along the path
};

struct FabricInfo {
  std::string name, type, shape;        // shape: switch ring fully-connected torus mesh fat-tree links
  std::vector<int> dims;                // torus / mesh dims
  LinkParams link;
  bool in_network_reduction = false;
  int level = 0;                        // 0 = intra-node, 1 = inter-node, ...
};

class Topology {
 public:
  std::string name;
  std::string file;
  std::vector<const ChipSpec*> device_chip;  // per device
  std::vector<VertexInfo> vertices;          // devices first (vertex id == device index)
  std::vector<LinkInfo> links;
  std::vector<FabricInfo> fabrics;
  int nodes = 1;                             // hierarchy: number of nodes
  int devices_per_node = 0;
  TopoGraph graph;

  int num_devices() const { return static_cast<int>(device_chip.size()); }
  int num_switches() const { return static_cast<int>(vertices.size()) - num_devices(); }
  int device_by_name(const std::string& name) const;  // -1 if unknown
  const std::vector<int>& torus_dims() const { return torus_dims_; }  // empty if not a torus

  // Shortest path by latency; ties broken by fewer hops, then lower vertex ids. On tori,
  // dimension-order routing. Throws InfeasibleError when unreachable.
  const Route& route(int src_vertex, int dst_vertex) const;

  // Report figures (`llmsim check`).
  int diameter_hops() const;
  BytesPerSecond bisection_bandwidth() const;   // per direction
  BytesPerSecond injection_bandwidth(int device) const;  // sum of its links, per direction

  // Builds `graph` from `links` and checks connectivity (InfeasibleError / InputError).
  void finalize();

  std::vector<int> torus_dims_;
 private:
  mutable std::map<std::pair<int, int>, Route> route_cache_;
};

// Loads a topology document (hierarchy: `nodes:` references are loaded relative to the
// file). Chips resolve through `catalog`. Throws InputError (exit 2) on bad input.
Topology load_topology(const Doc& doc, ChipCatalog& catalog);

}  // namespace llmsim
