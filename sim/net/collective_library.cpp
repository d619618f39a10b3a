#include "sim/net/collective_library.h"

#include <sys/stat.h>
#include <algorithm>
#include <cmath>

#include "sim/core/error.h"
#include "sim/core/params.h"
#include "sim/core/paths.h"
#include "sim/net/collective.h"
#include "sim/software/stack.h"
#include "sim/spec/chip.h"

namespace llmsim {
namespace {

// Stage timing looks at this many of a pattern's pairs: patterns are one shape repeated
// (a ring, a torus line), so the first pairs show its link kinds; 4,096-rank patterns
// stay cheap to cost.
constexpr std::size_t kPairsInspected = 64;

// Every figure needs a source: a bracketed source key, "CALIBRATION Cn ...", "estimate: why"
// or "inherited from LIBRARY: ..." (a figure borrowed from another library, said where
// users see it: `llmsim describe collectives`, summary.json's collective_library).
void check_source(Params& f, const CollectiveLibrary& lib, const std::string& figure) {
  auto it = lib.sources.find(figure);
  if (it == lib.sources.end())
    f.fail("sources",
           "figure '" + figure + "' has no source (add `" + figure + ": \"[KEY] ...\"` or \"estimate: why\")");
  const std::string& s = it->second;
  if (!(s.rfind("[", 0) == 0 || s.rfind("estimate:", 0) == 0 || s.rfind("CALIBRATION", 0) == 0 ||
        s.rfind("inherited from ", 0) == 0))
    f.fail("sources", "source of '" + figure +
                          "' must start with a [SOURCE-KEY], 'CALIBRATION', 'estimate:' or 'inherited from LIBRARY:'");
}

CollectiveProtocol parse_protocol(Params& p) {
  CollectiveProtocol out;
  out.name = p.str("name");
  out.payload_fraction = p.num("payload_fraction");
  if (!(out.payload_fraction > 0 && out.payload_fraction <= 1)) p.fail("payload_fraction", "must be in (0, 1]");
  out.base_latency = p.qty("base_latency");
  out.step_latency[static_cast<int>(LinkLatencyClass::NvLink)] = p.qty("nvlink_step_latency");
  out.step_latency[static_cast<int>(LinkLatencyClass::Pci)] = p.qty("pci_step_latency");
  out.step_latency[static_cast<int>(LinkLatencyClass::Net)] = p.qty("net_step_latency");
  out.channel_bandwidth = p.qty("channel_bandwidth");
  out.min_channel_bytes = p.qty("min_channel_bytes");
  out.in_switch = p.boolean("in_switch");
  out.switch_slice = p.qty("switch_slice");
  for (double v :
       std::initializer_list<double>{out.base_latency, out.step_latency[0], out.step_latency[1], out.step_latency[2],
                                     out.channel_bandwidth, out.min_channel_bytes, out.switch_slice})
    if (v < 0 || !std::isfinite(v)) p.fail("base_latency", "latencies, bandwidths and sizes must be finite and >= 0");
  p.finish();
  return out;
}

CollectiveLibrary parse_library(Params& f) {
  CollectiveLibrary lib;
  lib.file = f.file();
  lib.name = f.str("name");
  f.str("description");
  lib.efficiency = f.num("efficiency");
  if (!(lib.efficiency > 0 && lib.efficiency <= 1)) f.fail("efficiency", "must be in (0, 1]");
  lib.channels = static_cast<int>(f.positive("channels"));
  if (YAML::Node le = f.opt("link_efficiency")) {
    if (!le.IsMap()) f.fail("link_efficiency", "must be a map: link kind -> fraction");
    for (auto kv : le) {
      double v = kv.second.as<double>(-1);
      if (!(v > 0 && v <= 1)) f.fail("link_efficiency", "'" + kv.first.Scalar() + "' must be in (0, 1]");
      lib.link_efficiency[kv.first.Scalar()] = v;
    }
  }
  YAML::Node src = f.get("sources");
  if (!src.IsMap()) f.fail("sources", "must be a map: figure -> source");
  for (auto kv : src)
    lib.sources[kv.first.Scalar()] = as_string(kv.second, f.file_for("sources"), "sources." + kv.first.Scalar());
  YAML::Node protos = f.get("protocols");
  if (!protos.IsSequence() || protos.size() == 0) f.fail("protocols", "must be a non-empty list");
  for (std::size_t i = 0; i < protos.size(); ++i) {
    Params p = f.item("protocols", i);
    lib.protocols.push_back(parse_protocol(p));
    if (lib.protocol(lib.protocols.back().name) != &lib.protocols.back()) f.fail("protocols", "protocol named twice");
    check_source(f, lib, "protocols." + lib.protocols.back().name);
  }
  check_source(f, lib, "efficiency");
  check_source(f, lib, "channels");
  for (const auto& kv : lib.link_efficiency) check_source(f, lib, "link_efficiency." + kv.first);
  f.finish();
  return lib;
}

// The stage's links as the protocol sees them: the protocol's latency per step beyond
// what the routes already charge, the lowest measured efficiency and the narrowest route
// among the first pairs. NCCL's hwLat is the whole latency of a step on that link class,
// measured end to end, so it includes the wire and switch latency the route charges: the
// step pays max(hwLat, route latency), never both.
struct StageLinks {
  Seconds step_latency = 0;
  double efficiency = 1;
  BytesPerSecond bottleneck = 0;
};

StageLinks stage_links(const Topology& topo, const CollectiveLibrary& lib, const CollectiveProtocol& p,
                       const Pattern& pat) {
  StageLinks out;
  bool any = false;
  Seconds protocol_latency = 0, route_latency = 0;
  for (std::size_t i = 0; i < pat.pairs.size() && i < kPairsInspected; ++i) {
    const Route& r = topo.route(pat.pairs[i].first, pat.pairs[i].second);
    if (r.hops.empty()) continue;
    out.bottleneck = any ? std::min(out.bottleneck, r.bottleneck) : r.bottleneck;
    route_latency = std::max(route_latency, r.latency);
    any = true;
    for (DirLink d : r.hops) {
      const std::string& kind = topo.links[static_cast<std::size_t>(dirlink_link(d))].params.kind;
      protocol_latency = std::max(protocol_latency, p.step_latency[static_cast<int>(link_latency_class(kind))]);
      out.efficiency = std::min(out.efficiency, lib.efficiency_on(kind));
    }
  }
  out.step_latency = std::max(Seconds{0}, protocol_latency - route_latency);
  return out;
}

}  // namespace

LinkLatencyClass link_latency_class(const std::string& kind) {
  if (kind == "nvlink" || kind == "nvswitch-port" || kind == "xgmi" || kind == "infinity-fabric")
    return LinkLatencyClass::NvLink;
  if (kind == "pcie") return LinkLatencyClass::Pci;
  return LinkLatencyClass::Net;
}

double CollectiveLibrary::efficiency_on(const std::string& link_kind) const {
  auto it = link_efficiency.find(link_kind);
  return it == link_efficiency.end() ? efficiency : it->second;
}

const CollectiveProtocol* CollectiveLibrary::protocol(const std::string& n) const {
  for (const auto& p : protocols)
    if (p.name == n) return &p;
  return nullptr;
}

std::string default_collective_dir() { return project_root() + "/topologies/collectives"; }

LibraryPtr load_collective_library_file(const std::string& path) {
  Doc doc = load_doc(path);
  Params f("collectives", doc, "collective library");
  return std::make_shared<const CollectiveLibrary>(parse_library(f));
}

LibraryPtr load_collective_library(const std::string& name) {
  if (name.empty()) return nullptr;
  const std::string path = default_collective_dir() + "/" + name + ".yaml";
  return is_regular_file(path) ? load_collective_library_file(path) : nullptr;
}

LibraryPtr stack_collective_library(const SoftwareStack& sw) {
  LibraryPtr lib = load_collective_library(sw.collective_library);
  if (!lib || (sw.channels <= 0 && sw.protocols.empty() && !(sw.custom_allreduce_max_bytes > 0))) return lib;
  // The stack's own channel count and protocol set (topologies/software/*.yaml) narrow it.
  auto narrowed = std::make_shared<CollectiveLibrary>(*lib);
  if (sw.custom_allreduce_max_bytes > 0) {
    narrowed->custom_max_bytes = sw.custom_allreduce_max_bytes;
    narrowed->custom_max_ranks = static_cast<int>(sw.custom_allreduce_max_ranks);
    narrowed->custom.name = "custom";
    narrowed->custom.base_latency = sw.custom_allreduce_base_latency;
    for (Seconds& step : narrowed->custom.step_latency) step = sw.custom_allreduce_step_latency;
  }
  if (sw.channels > 0) narrowed->channels = static_cast<int>(sw.channels);
  if (!sw.protocols.empty()) {
    std::vector<CollectiveProtocol> keep;
    for (const auto& p : lib->protocols)
      if (std::find(sw.protocols.begin(), sw.protocols.end(), p.name) != sw.protocols.end()) keep.push_back(p);
    if (keep.empty())
      throw InputError({},
                       "software stack '" + sw.name + "' names no protocol of collective library '" + lib->name + "'");
    narrowed->protocols = std::move(keep);
  }
  return narrowed;
}

LibraryPtr default_collective_library(const Topology& topo) {
  if (topo.device_chip.empty() || !topo.device_chip.front()) return nullptr;
  const ChipSpec& chip = *topo.device_chip.front();
  const std::string stack = default_software_for(chip.name, chip.family);
  if (stack.empty()) return nullptr;
  // A serving engine's own all-reduce kernel is not the library's: collective benchmarks
  // (nccl-tests, C3) and training frameworks call the library itself.
  SoftwareStack sw = load_software_file(stack, {});
  sw.custom_allreduce_max_bytes = 0;
  return stack_collective_library(sw);
}

bool custom_allreduce_runs(const Topology& topo, const CollectiveRequest& req) {
  const CollectiveLibrary* lib = req.library;
  if (!lib || !(lib->custom_max_bytes > 0) || req.kind != CollectiveKind::AllReduce) return false;
  if (req.bytes > lib->custom_max_bytes || req.group.size() < 2 ||
      req.group.size() > static_cast<std::size_t>(lib->custom_max_ranks))
    return false;
  for (int a : req.group)
    for (int b : req.group) {
      if (a == b) continue;
      const Route& r = topo.route(a, b);
      if (r.hops.empty()) return false;
      for (DirLink d : r.hops)
        if (link_latency_class(topo.links[static_cast<std::size_t>(dirlink_link(d))].params.kind) !=
            LinkLatencyClass::NvLink)
          return false;
    }
  return true;
}

int channels_used(const CollectiveLibrary& lib, const CollectiveProtocol& p, Bytes bytes) {
  if (!(p.min_channel_bytes > 0)) return lib.channels;
  double c = std::floor(bytes / p.min_channel_bytes);
  return static_cast<int>(std::clamp(c, 1.0, static_cast<double>(lib.channels)));
}

Plan plan_with_protocol(const Topology& topo, const CollectiveLibrary& lib, const CollectiveProtocol& p,
                        const CollectiveRequest& req, const Plan& base) {
  Plan plan = base;
  plan.protocol = p.name;
  if (base.algorithm == "in-switch") {
    // The fabric's reduction_startup and reduction_efficiency are measured on the switch
    // with this protocol; the slice fill is what the library adds.
    // Folded into the one in-switch stage (one route start-up, as the switch pipelines).
    if (p.switch_slice > 0)
      for (Stage& st : plan.stages) st.bytes *= 1 + std::min(0.5, p.switch_slice / req.bytes);
    return plan;
  }
  plan.startup += p.base_latency;
  const int channels = channels_used(lib, p, req.bytes);
  for (Stage& st : plan.stages) {
    if (!st.pattern || st.pattern->pairs.empty()) continue;
    StageLinks links = stage_links(topo, lib, p, *st.pattern);
    st.step_latency += links.step_latency;
    double share = p.payload_fraction * links.efficiency;
    if (p.channel_bandwidth > 0 && links.bottleneck > 0)
      share = std::min(share, channels * p.channel_bandwidth / links.bottleneck);
    st.bytes /= share;
  }
  return plan;
}

Plan plan_best_protocol(const Topology& topo, const CollectiveLibrary& lib, const CollectiveRequest& req,
                        const Plan& base) {
  const bool in_switch = base.algorithm == "in-switch";
  Plan best = base;
  Seconds best_time = 0;
  bool found = false;
  for (const auto& p : lib.protocols) {
    if (in_switch && !p.in_switch) continue;
    Plan candidate = plan_with_protocol(topo, lib, p, req, base);
    Seconds t = estimate_plan(topo, candidate);
    if (!found || t < best_time) {
      best = std::move(candidate);
      best_time = t;
      found = true;
    }
  }
  return best;
}

}  // namespace llmsim
