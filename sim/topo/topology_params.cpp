// Topology file parameters, declared once (sim/core/params.h): load.cpp, shapes.cpp and
// links.cpp read them by name; `llmsim describe topology` prints them.
#include "sim/core/params.h"
#include "sim/topo/build.h"
#include "sim/topo/shapes/shape.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kTopologyDoc = "docs/topologies.md#schema";
const char* const kTopologyKind = "topology";
const char* const kPower = "docs/models.md#power";

// Link fields default to the fabric's own link (explicit `links:` entries, `block_link`);
// a fabric's `link:` itself starts from nothing (bandwidth then required).
std::vector<P> link_fields() {
  const char* from_fabric = "the fabric's link (0 on a fabric's own link)";
  return {
      P::derive("bandwidth", T::Quantity, "the fabric's link (required on a fabric's own link)", "per direction")
          .unit(Dim::Bandwidth)
          .from(kTopologyDoc),
      P::derive("latency", T::Quantity, from_fabric, "per hop (wire + serdes + switch port)")
          .unit(Dim::Time)
          .from(kTopologyDoc),
      P::derive("per_message_overhead", T::Quantity, from_fabric, "software / NIC cost per message")
          .unit(Dim::Time)
          .from(kTopologyDoc),
      P::derive("max_payload", T::Quantity, from_fabric, "messages are cut into chunks of this (0 = unlimited)")
          .unit(Dim::Size)
          .from(kTopologyDoc),
      P::derive("pj_per_bit", T::Number, from_fabric, "link energy in pJ per bit").from("docs/models.md"),
      P::derive("kind", T::Choice, "the fabric's type", "link kind")
          .one_of(topo_detail::link_kinds())
          .from(kTopologyDoc),
  };
}

}  // namespace

LLMSIM_DECLARE_PARAMS(
    topo_root,
    {kTopologyKind,
     "topology",
     "A cluster: devices (or nodes) and fabrics",
     {
         P::derive("name", T::String, "the file name", "topology name").from(kTopologyDoc),
         P::opt("description", T::String, "", "free text").from(kTopologyDoc),
         P::opt("sources", T::List, "", "source keys").from(kTopologyDoc),
         P::req("device", T::String, "chip catalog name or a chip YAML path (not with `nodes`)").from(kTopologyDoc),
         P::req("count", T::Positive, "devices (not with `nodes`)").from(kTopologyDoc),
         P::opt("prefix", T::String, "gpu", "device-name prefix: gpu0 ... gpuN").from(kTopologyDoc),
         P::opt("nodes", T::Map, "", "hierarchy: a node topology copied `count` times")
             .nested("topology.nodes")
             .from(kTopologyDoc),
         P::opt("fabrics", T::List, "", "fabrics joining the devices of this level")
             .nested("topology.fabrics[]")
             .from(kTopologyDoc),
         P::opt("power_cap", T::Map, "", "power limit on the devices of this level")
             .nested("topology.power_cap")
             .from(kPower),
         P::opt("power", T::Map, "", "DVFS curve and host overhead").nested("topology.power").from(kPower),
     }});

LLMSIM_DECLARE_PARAMS(
    topo_power_cap,
    {kTopologyKind,
     "topology.power_cap",
     "caps combine across levels (the lowest per device wins); a total is shared equally",
     {
         P::opt("per_device", T::Quantity, "0 W", "limit per device (0 = none)").unit(Dim::Power).from(kPower),
         P::opt("total", T::Quantity, "0 W", "limit on the sum of this level's devices, equal share each (0 = none)")
             .unit(Dim::Power)
             .from(kPower),
         // Assumption: NVIDIA documents no averaging window for its power limit; 1 ms is
         // shorter than any figure we found, so the check is strict (docs/models.md "Power").
         P::opt("window", T::Quantity, "1 ms", "averaging window of the cap checks and of max_window_avg_w")
             .unit(Dim::Time)
             .from(kPower),
     }});

LLMSIM_DECLARE_PARAMS(topo_power,
                      {kTopologyKind,
                       "topology.power",
                       "",
                       {
                           P::derive("dvfs_min_clock", T::Number, "each chip's power.dvfs.min_clock / clock",
                                     "override: lowest clock the governor sets, fraction of nominal, for every device")
                               .from(kPower),
                           P::derive("dvfs_min_voltage", T::Number, "each chip's power.dvfs.min_voltage",
                                     "override: voltage at dvfs_min_clock, fraction of nominal, for every device")
                               .from(kPower),
                           P::opt("tdp_limit", T::Boolean, "true",
                                  "each device's TDP is a power cap (power-limited clocks); false = "
                                  "clocks stay nominal whatever the power")
                               .from(kPower),
                           P::opt("host_per_node", T::Quantity, "0 W",
                                  "host, NIC and fan power per node (DGX H100: ~4.6 kW at max)")
                               .unit(Dim::Power)
                               .from(kPower),
                           P::opt("psu_efficiency", T::Number, "1", "DC / AC power of the power supplies").from(kPower),
                           P::opt("pue", T::Number, "1", "facility power / IT power").from(kPower),
                       }});

LLMSIM_DECLARE_PARAMS(
    topo_nodes, {kTopologyKind,
                 "topology.nodes",
                 "",
                 {
                     P::req("topology", T::String, "node topology file, relative to this file").from(kTopologyDoc),
                     P::req("count", T::Positive, "nodes").from(kTopologyDoc),
                     P::opt("prefix", T::String, "node", "node-name prefix: node0.gpu0 ...").from(kTopologyDoc),
                 }});

LLMSIM_DECLARE_PARAMS(
    topo_fabric,
    {kTopologyKind,
     "topology.fabrics[]",
     "one fabric; shape-specific fields below",
     {
         P::req("type", T::Choice, "link kind").one_of(topo_detail::link_kinds()).from(kTopologyDoc),
         P::derive("name", T::String, "type", "unique per level").from(kTopologyDoc),
         P::req("shape", T::Choice, "how devices are joined")
             .one_of_registered(topo_detail::ShapeRegistry::names)
             .from(kTopologyDoc),  // sim/topo/shapes/
         P::req("link", T::Map, "link parameters (optional for shape: links)")
             .nested("topology.fabrics[].link")
             .from(kTopologyDoc),
         P::opt("in_network_reduction", T::Boolean, "false", "switches reduce / multicast (NVLS, SHARP)")
             .from(kTopologyDoc),
         // Fitted on CALIBRATION C3 (NCCL 2.18.5 NVLS all-reduce, DGX H100): busbw 478.9 GB/s at
         // 8 GB on 450 GB/s links -> 273.7 / 450 = 0.608; the 1 MB point (40.0 us) less 4.7 us of
         // bandwidth and latency terms -> 35 us. Another fabric that leaves them out inherits them.
         P::opt("reduction_efficiency", T::Number, "0.608",
                "in-switch reduction: fraction of link bandwidth sustained (fitted)")
             .from("CALIBRATION C3"),
         P::opt("reduction_startup", T::Quantity, "35 us", "in-switch reduction: fixed cost per collective (fitted)")
             .unit(Dim::Time)
             .from("CALIBRATION C3"),
         P::opt("reduction_source", T::String, "inherited from topologies/dgx-h100.yaml nvlink (CALIBRATION C3)",
                "where the two figures above come from, shown by check and in summary.json")
             .from(kTopologyDoc),
         P::opt("switch_latency", T::Quantity, "0 s", "added per switch a route passes through")
             .unit(Dim::Time)
             .from(kTopologyDoc),
         P::opt("switch_pj_per_bit", T::Number, "0",
                "switch core energy per bit it switches, in pJ (its ports' SerDes "
                "are in the links' pj_per_bit)")
             .from(kPower),
         P::opt("parallel", T::Positive, "1", "links per device pair, one link of N x bandwidth").from(kTopologyDoc),
         P::opt("planes", T::Positive, "1", "switch: parallel switch planes").from(kTopologyDoc),
         P::derive("group", T::Positive, "all members", "switch: devices per switch").from(kTopologyDoc),
         P::opt("between", T::Choice, "devices", "fully-connected: join devices or nodes")
             .one_of({"devices", "nodes"})
             .from(kTopologyDoc),
         P::opt("links_per_pair", T::Positive, "1", "fully-connected between nodes: links per node pair")
             .from(kTopologyDoc),
         P::req("dims", T::List, "torus / mesh: 1 to 3 dimensions, e.g. [4, 4, 4]").from(kTopologyDoc),
         P::opt("block", T::List, "", "torus / mesh: block size per dimension (slices joined by block_link)")
             .from(kTopologyDoc),
         P::opt("block_link", T::Map, "", "torus / mesh: link between blocks (needs block)")
             .nested("topology.fabrics[].link")
             .from(kTopologyDoc),
         P::opt("radix", T::Positive, "64", "fat-tree: ports per switch").from(kTopologyDoc),
         P::opt("oversubscription", T::Number, "1", "fat-tree: leaf down:up bandwidth ratio").from(kTopologyDoc),
         P::opt("rails", T::Positive, "", "fat-tree: rail-optimised with this many rails (absent = not)")
             .from(kTopologyDoc),
         P::opt("switches", T::List, "", "links: switch names").from(kTopologyDoc),
         P::req("links", T::List, "links: explicit {a, b, ...link fields}")
             .nested("topology.fabrics[].links[]")
             .from(kTopologyDoc),
     }});

LLMSIM_DECLARE_PARAMS(topo_link, {kTopologyKind, "topology.fabrics[].link", "", link_fields()});

LLMSIM_DECLARE_PARAMS(topo_links, {kTopologyKind, "topology.fabrics[].links[]", "", [] {
                                     std::vector<P> v = {
                                         P::req("a", T::String, "endpoint (device or switch name)").from(kTopologyDoc),
                                         P::req("b", T::String, "endpoint (device or switch name)").from(kTopologyDoc)};
                                     for (auto& p : link_fields()) v.push_back(p);
                                     return v;
                                   }()});

}  // namespace llmsim
