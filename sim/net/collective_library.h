// A collective library's cost model (topologies/collectives/*.yaml, docs/models.md
// "Collective libraries"): the protocols it picks from by message size, each with its own
// latency and share of the link rate, and the channels (parallel rings, one CTA each) a
// collective is spread over. Applied to an algorithm's plan (sim/net/collective.h): the
// protocol with the least modelled time wins, as NCCL's tuning model does [NCCL-SRC].
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/core/yaml_doc.h"

namespace llmsim {

class Topology;
struct Plan;
struct CollectiveRequest;
struct SoftwareStack;

// Which of NCCL's three hardware latency classes a link belongs to (tuning.cc hwLat).
enum class LinkLatencyClass { NvLink, Pci, Net };
LinkLatencyClass link_latency_class(const std::string& link_kind);

struct CollectiveProtocol {
  std::string name;                      // ll | ll128 | simple | ...
  double payload_fraction = 1;           // payload bytes per byte on the wire (LL: 8 of 16)
  Seconds base_latency = 0;              // per collective (NCCL baseLat)
  Seconds step_latency[3] = {0, 0, 0};   // per algorithm step, by LinkLatencyClass (hwLat)
  BytesPerSecond channel_bandwidth = 0;  // most one channel moves; 0 = no cap
  Bytes min_channel_bytes = 0;           // a channel is used only for this many bytes of the message
  bool in_switch = false;                // runs in-switch reduction (NVLS / SHARP use Simple only)
  // In-switch: the message is cut into slices of at most this (and at least two); the
  // first slice's reduction and the last one's multicast do not overlap: one slice of fill.
  Bytes switch_slice = 0;
};

struct CollectiveLibrary {
  std::string name;
  std::string file;
  // Fraction of the link rate the bulk protocol sustains on each link kind, measured;
  // kinds not listed take `efficiency` (the library's default, stated with its source).
  double efficiency = 1;
  std::map<std::string, double> link_efficiency;
  int channels = 1;  // most channels one collective uses
  std::vector<CollectiveProtocol> protocols;
  std::map<std::string, std::string> sources;
  // A serving stack's own all-reduce kernel (SoftwareStack::custom_allreduce_*), run in
  // place of the protocols above where custom_allreduce_runs says so; its protocol is
  // named "custom": the stack's latencies, whole payload (16-byte vector loads and
  // stores, flags apart), no per-channel cap. custom_max_bytes 0: the stack has none.
  Bytes custom_max_bytes = 0;
  int custom_max_ranks = 0;
  CollectiveProtocol custom;

  double efficiency_on(const std::string& link_kind) const;
  const CollectiveProtocol* protocol(const std::string& name) const;  // nullptr if absent
};
using LibraryPtr = std::shared_ptr<const CollectiveLibrary>;

// Directory of the shipped libraries: $LLMSIM_HOME/topologies/collectives, else the tree's.
std::string default_collective_dir();
// DIR/NAME.yaml; nullptr when no such file (the library is then not modelled: ideal links).
LibraryPtr load_collective_library(const std::string& name);
LibraryPtr load_collective_library_file(const std::string& path);
// The library a software stack names (collective.library), its channel count and protocol
// list replaced and narrowed by the stack's; nullptr when the stack names none or no file
// models it. InputError when the stack keeps none of the library's protocols.
LibraryPtr stack_collective_library(const SoftwareStack& sw);
// The library of the stack the topology's first chip runs by default (software defaults),
// without that stack's custom all-reduce: what a microbench or a training run naming no
// stack calls (nccl-tests and training frameworks call the library itself).
LibraryPtr default_collective_library(const Topology& topo);

// Whether the request's library runs it as the stack's custom all-reduce: an all-reduce
// of at most custom_max_bytes over 2..custom_max_ranks members, every pair joined by
// NVLink-class links alone (one NVLink / xGMI domain: vLLM's full-NVLink condition).
bool custom_allreduce_runs(const Topology& topo, const CollectiveRequest& req);

// Channels a message of `bytes` uses under `p`: one per min_channel_bytes, 1..channels.
int channels_used(const CollectiveLibrary& lib, const CollectiveProtocol& p, Bytes bytes);
// `base` run under protocol `p`: start-up + base latency, each step at least the
// protocol's step latency for the stage's slowest link class (the routes' own latency
// counts towards it), stage bytes inflated by 1 / (the share of the link rate
// the protocol and channels reach). In-switch plans keep the fabric's own fitted
// efficiency and start-up and take only the channel cap.
Plan plan_with_protocol(const Topology& topo, const CollectiveLibrary& lib, const CollectiveProtocol& p,
                        const CollectiveRequest& req, const Plan& base);
// The protocol with the least modelled time (estimate_plan), ties to the earlier one in
// the file; fills Plan::protocol. `base` unchanged when lib has no protocol for it.
Plan plan_best_protocol(const Topology& topo, const CollectiveLibrary& lib, const CollectiveRequest& req,
                        const Plan& base);

}  // namespace llmsim
