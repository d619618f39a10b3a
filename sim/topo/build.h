// Internal to sim/topo: the pieces the loader uses to build a Topology. Shape builders
// live in shapes/ (one file per shape, registered by name; shapes/shape.h), link parsing
// in links.cpp.
#pragma once
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/topo/topology.h"

namespace llmsim {
namespace topo_detail {

// Largest system accepted: a bad `count` must be an error, not an allocation failure.
constexpr long long kMaxDevices = 1 << 20;
// Bounds on what shapes may generate (a 1M-device `fully-connected` would need 5e11 links):
// about 600 MB of links and switches at most, refused with a positioned error beyond.
constexpr long long kMaxLinks = 1 << 22;
constexpr long long kMaxSwitches = 1 << 20;

// Parses a `link:` map (or an explicit link entry's own fields, via `f`) on top of `base`.
// Reads bandwidth (required unless `base` has one), latency, per_message_overhead,
// max_payload, pj_per_bit, kind. Bandwidth must be > 0, the others >= 0.
LinkParams parse_link_fields(Params& f, LinkParams base);
// The link map under `key` of `parent` (`what` names it in messages).
LinkParams parse_link(Params& parent, const std::string& key, const std::string& what, const LinkParams& base);

// Known link kinds (contract): nvlink nvswitch-port infiniband roce ici ocs pcie ...
const std::vector<std::string>& link_kinds();

// Parses one entry of `fabrics:` and adds its switches and links to `t` for the devices
// `members` (vertex ids, in order). `level` is 0 for the innermost fabrics. `prefix` is
// prepended to switch names (hierarchy: "node3.").
// `resolved` receives the fabric as loaded (config.resolved.yaml).
void add_fabric(Topology& t, const YAML::Node& node, const std::string& file, const std::string& what,
                const std::vector<int>& members, int level, const std::string& prefix, YAML::Node resolved);

// Reads this level's `power_cap:` and `power:` into t.power (devices already added; a node
// level's setup was copied by replication): caps combine by minimum, a total is shared
// equally; a cap below a device's idle power is a positioned error with the arithmetic.
void read_power(Params& f, Topology& t);

// load_topology, also returning the document as loaded (declared fields with defaults
// filled in and units normalised; sim/core/params.h).
Topology load_topology_resolved(const Doc& doc, ChipCatalog& catalog, YAML::Node& resolved);

}  // namespace topo_detail
}  // namespace llmsim
