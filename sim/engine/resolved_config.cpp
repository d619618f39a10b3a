#include "sim/engine/resolved_config.h"

#include <cstdlib>
#include <set>

#include "sim/core/params.h"
#include "sim/core/paths.h"
#include "sim/engine/workload.h"
#include "sim/topo/build.h"

namespace llmsim {

const char* const kResolvedMarker = "llmsim_resolved";

namespace {

bool is_resolved(const Doc& doc) { return static_cast<const YAML::Node&>(doc.root)[kResolvedMarker].IsDefined(); }

Doc load_part(const std::string& path, const std::string& part, ChipCatalog& catalog, YAML::Node& meta) {
  Doc doc = load_doc(path);
  if (!is_resolved(doc)) return doc;
  meta.reset(static_cast<const YAML::Node&>(doc.root)[kResolvedMarker]);
  register_resolved_chips(doc, catalog);
  return resolved_part(doc, part);
}

// The topology as loaded (declared fields with defaults, SI units), with its file
// references made absolute; the chips it uses are written beside it.
YAML::Node resolved_topology(const RunInputs& in, const Topology& topo) {
  const Doc& doc = in.topology;
  YAML::Node t = clean_copy(in.topology_resolved.IsMap() ? in.topology_resolved : doc.root);
  t["name"] = topo.name;
  const YAML::Node& root = doc.root;
  if (root["device"] && root["device"].IsScalar() && topo.num_devices() > 0) {
    t["device"] = topo.device_chip[0]->name;  // the chip is recorded under `chips:`
  }
  if (root["nodes"] && root["nodes"].IsMap() && root["nodes"]["topology"]) {
    Doc at;
    at.path = doc.file_of("nodes");
    t["nodes"]["topology"] = real_path_or_given(at.resolve(root["nodes"]["topology"].Scalar()));
  }
  return t;
}

}  // namespace

// The `part` map of a resolved config as a document of its own (positions stay in the file).
Doc resolved_part(const Doc& doc, const std::string& part) {
  YAML::Node n = static_cast<const YAML::Node&>(doc.root)[part];
  if (!n || !n.IsMap()) {
    throw InputError(pos_of(doc.root, doc.path), std::string(kResolvedMarker) + " file: '" + part + "' must be a map");
  }
  Doc d;
  d.path = doc.path;
  d.root = n;
  for (auto kv : n) d.key_file[kv.first.Scalar()] = doc.path;
  return d;
}

// Chips recorded in a resolved config replace the catalog's files of the same name.
void register_resolved_chips(const Doc& doc, ChipCatalog& catalog) {
  YAML::Node chips = static_cast<const YAML::Node&>(doc.root)["chips"];
  if (!chips) return;
  if (!chips.IsMap()) throw InputError(pos_of(chips, doc.path), "chips: expected a map of chip name -> chip");
  for (auto kv : chips) {
    Doc cd;
    cd.path = doc.path;
    cd.root = kv.second;
    if (!cd.root.IsMap()) throw InputError(pos_of(kv.second, doc.path), "chips." + kv.first.Scalar() + ": expected a map");
    ChipSpec chip = load_chip(cd);
    if (chip.name != kv.first.Scalar()) {
      throw InputError(pos_of(kv.first, doc.path), "chips." + kv.first.Scalar() + " has name '" + chip.name + "'");
    }
    catalog.add(std::move(chip));
  }
}

RunInputs load_run_inputs(const std::string& topology_path, const std::string& workload_path,
                          ChipCatalog& catalog, RunOptions& opt) {
  RunInputs in;
  YAML::Node tmeta(YAML::NodeType::Undefined), wmeta(YAML::NodeType::Undefined);
  in.topology = load_part(topology_path, "topology", catalog, tmeta);
  apply_overrides(in.topology, "topology", opt.overrides);
  in.workload = load_part(workload_path, "workload", catalog, wmeta);
  apply_overrides(in.workload, "workload", opt.overrides);
  in.workload_name = path_stem(workload_path);
  in.meta.reset(wmeta ? wmeta : tmeta);
  if (wmeta && wmeta.IsMap()) {
    if (wmeta["workload_name"]) in.workload_name = as_string(wmeta["workload_name"], workload_path, "workload_name");
    if (wmeta["seed"] && !opt.seed_given) {
      std::int64_t seed = as_int(wmeta["seed"], workload_path, std::string(kResolvedMarker) + ".seed");
      opt.seed = static_cast<std::uint64_t>(seed);
      opt.seed_given = true;
    }
  }
  return in;
}

Topology load_run_topology(RunInputs& in, ChipCatalog& catalog) {
  YAML::Node resolved;
  Topology t = topo_detail::load_topology_resolved(in.topology, catalog, resolved);
  in.topology_resolved.reset(resolved);
  return t;
}

std::string resolved_config_text(const RunInputs& in, const std::string& topology_path,
                                 const std::string& workload_path, const Topology& topo,
                                 const Workload& workload, const RunOptions& opt) {
  YAML::Node root(YAML::NodeType::Map);
  YAML::Node meta(YAML::NodeType::Map);
  meta["version"] = LLMSIM_VERSION;
  // A rerun of a resolved config keeps naming the original inputs.
  bool again = in.meta && in.meta.IsMap();
  meta["topology_file"] = again && in.meta["topology_file"] ? in.meta["topology_file"].Scalar() : topology_path;
  meta["workload_file"] = again && in.meta["workload_file"] ? in.meta["workload_file"].Scalar() : workload_path;
  meta["workload_name"] = in.workload_name;
  if (opt.seed_given) meta["seed"] = std::to_string(opt.seed);
  YAML::Node sets(YAML::NodeType::Sequence);
  if (again && in.meta["set"] && in.meta["set"].IsSequence()) {
    for (auto s : in.meta["set"]) sets.push_back(s.Scalar());
  }
  for (const auto& o : opt.overrides) sets.push_back(o.text);
  if (sets.size() > 0) meta["set"] = sets;
  root[kResolvedMarker] = meta;

  YAML::Node w = workload.resolved();
  root["workload"] = w.IsDefined() ? clean_copy(w) : clean_copy(in.workload.root);
  if (in.faults.IsDefined()) root["workload"]["faults"] = in.faults;  // taken off before the kind loaded
  root["topology"] = resolved_topology(in, topo);
  YAML::Node chips(YAML::NodeType::Map);
  std::set<std::string> seen;
  for (const ChipSpec* c : topo.device_chip) {
    if (!seen.insert(c->name).second) continue;
    chips[c->name] = clean_copy(c->resolved);
  }
  root["chips"] = chips;

  YAML::Emitter em;
  em << root;
  return "# llmsim config.resolved.yaml: every input of this run as it saw them (--set applied,\n"
         "# defaults filled in, quantities in SI base units). Rerun it with\n"
         "#   llmsim run -t config.resolved.yaml -w config.resolved.yaml\n" +
         std::string(em.c_str()) + "\n";
}

}  // namespace llmsim
