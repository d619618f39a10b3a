// Link parameters (`link:` maps and explicit `links:` entries) and the explicit-links
// shape, which needs name resolution rather than a regular layout.
#include <algorithm>
#include <set>

#include "sim/topo/build.h"

namespace llmsim {
namespace topo_detail {

const std::vector<std::string>& link_kinds() {
  static const std::vector<std::string> k = {"nvlink", "nvswitch-port", "infiniband", "roce",     "ici",
                                             "ocs",    "pcie",          "torus-noc",  "ipu-link", "gw-link",
                                             "groq-c2c", "swarmx",      "p2p",        "ethernet", "infinity-fabric"};
  return k;
}

LinkParams parse_link_fields(Params& f, LinkParams base) {
  LinkParams p = base;
  p.kind = f.choice("kind", base.kind);
  if (!(base.bandwidth > 0)) f.get("bandwidth");  // a fabric's own link must give it
  p.bandwidth = f.qty("bandwidth", base.bandwidth);
  if (!(p.bandwidth > 0)) f.fail("bandwidth", "must be positive (per direction), e.g. 450 GB/s");
  p.latency = f.qty("latency", base.latency);
  if (p.latency < 0) f.fail("latency", "must not be negative");
  p.per_message_overhead = f.qty("per_message_overhead", base.per_message_overhead);
  if (p.per_message_overhead < 0) f.fail("per_message_overhead", "must not be negative");
  p.max_payload = f.qty("max_payload", base.max_payload);
  if (p.max_payload < 0) f.fail("max_payload", "must not be negative");
  p.pj_per_bit = f.num("pj_per_bit", base.pj_per_bit);
  if (p.pj_per_bit < 0) f.fail("pj_per_bit", "must not be negative");
  return p;
}

LinkParams parse_link(Params& parent, const std::string& key, const std::string& what, const LinkParams& base) {
  Params f = parent.child(key, what);
  LinkParams p = parse_link_fields(f, base);
  f.finish();
  return p;
}

}  // namespace topo_detail
}  // namespace llmsim
