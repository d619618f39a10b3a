// A cluster topology loaded from YAML into a Boost.Graph: devices, switches and
// full-duplex links, with deterministic routes. Built once; read-only during a run.
#pragma once
#include <boost/graph/adjacency_list.hpp>
#include <boost/iterator/transform_iterator.hpp>
#include <boost/range/iterator_range.hpp>

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
  int fabric = -1;         // Kind::Switch: index into Topology::fabrics that created it
};

struct LinkInfo {
  int a = -1, b = -1;      // vertex ids; direction 0 = a->b, 1 = b->a
  LinkParams params;
  std::string fabric;      // name of the fabric that created it
  int dim = -1;            // torus dimension (0,1,2) or -1
  int fabric_id = -1;      // index into Topology::fabrics
};

using TopoGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS,
                                        boost::no_property, boost::property<boost::edge_index_t, int>>;

// A vertex's neighbours as (neighbour vertex, link id) pairs: a view of its Boost.Graph
// out-edges, in link order.
struct NeighbourOf {
  const TopoGraph* graph = nullptr;
  std::pair<int, int> operator()(const TopoGraph::edge_descriptor& e) const {
    return {static_cast<int>(boost::target(e, *graph)), boost::get(boost::edge_index, *graph, e)};
  }
};
using NeighbourIterator =
    boost::transform_iterator<NeighbourOf, TopoGraph::out_edge_iterator, std::pair<int, int>, std::pair<int, int>>;
using NeighbourRange = boost::iterator_range<NeighbourIterator>;

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
  // In-switch reduction (NVLS / SHARP) fitted figures and where they came from; defaults
  // are declared in topology_params.cpp with their source (CALIBRATION C3 on DGX H100).
  double reduction_efficiency = 1;
  Seconds reduction_startup = 0;
  std::string reduction_source;
  int level = 0;                        // 0 = intra-node, 1 = inter-node, ...
  int planes = 1;                       // switch: parallel switch planes
  int parallel = 1;                     // links per device pair, aggregated into one link
  int rails = 0;                        // fat-tree: rail-optimised when > 0
  int radix = 0;                        // fat-tree: ports per switch
  double oversubscription = 1;          // fat-tree: leaf down:up bandwidth ratio
  Seconds switch_latency = 0;
  double switch_pj_per_bit = 0;         // switch core energy per bit switched (ports: link pj_per_bit)
  SourcePos pos;                        // where it was declared
};

// One placement of a fabric on a set of devices (a node-level fabric is instantiated
// once per node). Keeps the shape's layout so routes are computed, not searched.
struct FabricInstance {
  int fabric = -1;                      // index into Topology::fabrics
  int node = -1;                        // node it belongs to; -1 = spans the whole system
  std::vector<int> members;             // device vertex ids, in shape order
  std::vector<int> switches;            // switch vertex ids it created
  bool structured = true;               // false: routes come from Dijkstra
  // fat-tree layout: leaf of each member, spines per pod, core groups per spine index
  std::vector<int> member_leaf;         // index into `switches` is not used: vertex ids
  std::vector<int> leaf_pod;            // per leaf (by leaf ordinal) its pod
  std::vector<int> leaf_vertex;         // leaf ordinal -> vertex id
  std::vector<std::vector<int>> pod_spines;   // pod -> spine vertex ids
  std::vector<std::vector<int>> core_groups;  // spine index in pod -> core vertex ids
};

// Power setup of a topology (docs/topologies.md "Power"): caps per device after combining
// every level's `power_cap:`, the governor's averaging window, the DVFS curve and the
// host overhead (`power:`).
struct PowerSetup {
  // A `power_cap: {total: W}`: shared by demand among its devices (models/power_governor.h).
  struct CapGroup {
    std::string name;                 // "node3", or the topology's name for its whole level
    std::vector<int> devices;
    Watts total = 0;
  };
  std::vector<Watts> device_cap;      // per device; 0 = uncapped
  std::vector<CapGroup> cap_groups;
  Seconds window = 1e-3;              // averaging window of the cap checks and reports
  double min_clock = 0;               // DVFS floor override, fraction of nominal (0 = the chip's)
  double min_voltage = 0;             // voltage at min_clock override (0 = the chip's)
  bool tdp_limit = true;              // each device's TDP caps it even without power_cap
  Watts host_per_node = 0;            // CPUs, NICs, fans, switches per node (not accelerators)
  double psu_efficiency = 1.0;        // DC power / AC power drawn from the wall
  double pue = 1.0;                   // facility power / IT power
  bool capped() const;
};

class Topology {
 public:
  PowerSetup power;
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
  // Exact name ("node3.gpu5"), or an alias "<letters><N>" for the N-th device in global
  // order ("gpu8" = node1.gpu0 with 8 GPUs per node); -1 if unknown.
  int device_by_name(const std::string& name) const;
  const std::vector<int>& torus_dims() const { return torus_dims_; }  // empty if not a torus

  // Route between two vertices (docs/topologies.md "Routing"): regular shapes compute it
  // (rings the shorter way, tori/meshes in dimension order, fat trees up/down with an ECMP
  // hash, rail-aligned PXN between nodes); otherwise Dijkstra by latency, ties to fewer hops,
  // then lower vertex ids. src == dst: no hops, latency 0, bottleneck 0. The reference stays
  // valid for at least kRouteCacheGeneration further calls; copy the Route to keep it.
  // Throws InfeasibleError when unreachable.
  const Route& route(int src_vertex, int dst_vertex) const;

  // Report figures (`llmsim check`).
  int diameter_hops() const;
  BytesPerSecond bisection_bandwidth() const;   // per direction
  BytesPerSecond injection_bandwidth(int device) const;  // sum of its links, per direction

  // Builds `graph` from `links` and checks connectivity (InfeasibleError / InputError).
  void finalize();

  // Construction (loader and shape builders): names must be unique (checked by callers).
  int add_vertex(VertexInfo v);
  int add_link(LinkInfo l);

  // Device (or switch) by any vertex name; -1 if unknown.
  int vertex_by_name(const std::string& name) const;
  // Link between two adjacent vertices (lowest link id; preferring `fabric_id` when >= 0); -1 if none.
  int link_between(int u, int v, int fabric_id = -1) const;
  // Vertex path -> Route (hops, latency incl. switch latencies, bottleneck).
  Route make_route(const std::vector<int>& path, int fabric_id = -1) const;
  // (neighbour, link) of every link at `v`, in link order; valid after finalize().
  NeighbourRange neighbours(int v) const {
    auto [first, last] = boost::out_edges(static_cast<TopoGraph::vertex_descriptor>(v), graph);
    return {NeighbourIterator(first, NeighbourOf{&graph}), NeighbourIterator(last, NeighbourOf{&graph})};
  }

  std::vector<int> torus_dims_;
  std::vector<FabricInstance> instances;     // every placement of every fabric
  SourcePos pos;                             // the topology document (for errors)
  std::string description;
  std::vector<std::string> sources;

 private:
  // Two generations bound the cache: a reference returned by route() stays valid for at
  // least kRouteCacheGeneration further calls (copy the Route to keep it longer).
  static constexpr size_t kRouteCacheGeneration = 1u << 16;
  mutable std::map<std::pair<int, int>, Route> route_cache_;
  mutable std::map<std::pair<int, int>, Route> route_cache_old_;
  mutable int diameter_ = -1;
  std::vector<std::vector<std::pair<int, int>>> dev_inst_;   // device -> (instance, member index)
  std::map<std::string, int> by_name_;
  Route compute_route(int src, int dst) const;
  bool structured_route(int src, int dst, std::vector<int>& path, int& fabric_id, bool compose = true) const;
  std::vector<int> dijkstra_path(int src, int dst) const;
  std::vector<int> instance_path(const FabricInstance& inst, int a, int b) const;  // member indices
};

// Loads a topology document (hierarchy: `nodes:` references are loaded relative to the
// file). Chips resolve through `catalog`. Throws InputError (exit 2) on bad input.
Topology load_topology(const Doc& doc, ChipCatalog& catalog);

}  // namespace llmsim
