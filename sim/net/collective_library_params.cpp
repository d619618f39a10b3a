// The collective library file's parameters (topologies/collectives/*.yaml), declared once
// (sim/core/params.h): collective_library.cpp reads them by name, `llmsim describe
// collectives` prints them.
#include "sim/core/params.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kCollLibDoc = "docs/models.md";

}  // namespace

LLMSIM_DECLARE_PARAMS(
    collectives_root,
    {"collectives",
     "collectives",
     "A collective library (topologies/collectives/*.yaml)",
     {
         P::req("name", T::String, "library id, equal to the file name; software stacks name it as collective.library")
             .from(kCollLibDoc),
         P::opt("description", T::String, "", "free text").from(kCollLibDoc),
         P::req("efficiency", T::Number,
                "share of a link's nominal rate the bulk protocol sustains where no "
                "link_efficiency entry measures it")
             .from(kCollLibDoc),
         P::opt("link_efficiency", T::Map, "", "link kind -> measured share of its nominal rate").from(kCollLibDoc),
         P::req("channels", T::Integer, "most channels (parallel rings, one CTA each) a collective uses")
             .from(kCollLibDoc),
         P::req("protocols", T::List, "protocols the library picks from, least modelled time wins")
             .nested("collectives.protocols[]")
             .from(kCollLibDoc),
         P::req("sources", T::Map, "figure -> \"[SOURCE-KEY] ...\", \"CALIBRATION Cn ...\" or \"estimate: why\"")
             .from(kCollLibDoc),
     }});

LLMSIM_DECLARE_PARAMS(
    collectives_protocol,
    {"collectives",
     "collectives.protocols[]",
     "",
     {
         P::req("name", T::String, "protocol id (ll, ll128, simple)").from(kCollLibDoc),
         P::req("payload_fraction", T::Number, "payload bytes per byte on the wire (LL: 8 of each 16-byte line)")
             .from(kCollLibDoc),
         P::opt("base_latency", T::Quantity, "0 s", "latency per collective (NCCL baseLat)")
             .unit(Dim::Time)
             .from(kCollLibDoc),
         P::opt("nvlink_step_latency", T::Quantity, "0 s",
                "latency per algorithm step over NVLink-class links "
                "(nvlink, nvswitch-port; NCCL hwLat)")
             .unit(Dim::Time)
             .from(kCollLibDoc),
         P::opt("pci_step_latency", T::Quantity, "0 s", "latency per step over PCIe").unit(Dim::Time).from(kCollLibDoc),
         P::opt("net_step_latency", T::Quantity, "0 s", "latency per step over any other link (network)")
             .unit(Dim::Time)
             .from(kCollLibDoc),
         P::opt("channel_bandwidth", T::Quantity, "0 B/s", "most one channel moves; 0 = no cap")
             .unit(Dim::Bandwidth)
             .from(kCollLibDoc),
         P::opt("min_channel_bytes", T::Quantity, "0 B",
                "message bytes per channel used (fewer channels for small "
                "messages); 0 = always every channel")
             .unit(Dim::Size)
             .from(kCollLibDoc),
         P::opt("in_switch", T::Boolean, "false", "runs in-switch reduction (NVLS / SHARP)").from(kCollLibDoc),
         P::opt("switch_slice", T::Quantity, "0 B",
                "in-switch: largest slice; one slice (at most half the message) "
                "of reduce/multicast fill")
             .unit(Dim::Size)
             .from(kCollLibDoc),
     }});

}  // namespace llmsim
