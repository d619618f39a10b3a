// OUTDIR/config.resolved.yaml: every input of a run as the run saw it (--set applied,
// defaults filled in, quantities in SI base units, paths absolute), and reading it back:
// `llmsim run -t OUTDIR/config.resolved.yaml -w OUTDIR/config.resolved.yaml` reproduces the
// run (docs/formats.md "config.resolved.yaml").
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>

#include "sim/core/yaml_doc.h"
#include "sim/engine/simulation.h"
#include "sim/spec/chip.h"

namespace llmsim {

class Workload;

// Top-level key that marks a resolved configuration (its other keys: topology, workload,
// chips).
extern const char* const kResolvedMarker;

struct RunInputs {
  Doc topology;               // the topology document, --set applied
  Doc workload;               // the workload document, --set applied
  std::string workload_name;  // summary.json "workload" (the original file's stem)
  YAML::Node meta;            // kResolvedMarker block of an input resolved config (or undefined)
  YAML::Node topology_resolved;  // the topology as loaded (load_run_topology)
  YAML::Node faults;             // the workload's `faults:` and --fault, map form (or undefined)
};

// Loads the -t and -w files. Either may be a config.resolved.yaml: then its `topology:` or
// `workload:` part is used, its `chips:` are registered in `catalog` (so the run sees the
// chips it saw, not today's catalog), and its recorded --seed applies unless `opt` has one.
RunInputs load_run_inputs(const std::string& topology_path, const std::string& workload_path,
                          ChipCatalog& catalog, RunOptions& opt);

// For `llmsim check` of a resolved config: its recorded `chips:` registered in `catalog`
// (they replace the catalog's files of the same name), and its `part` ("topology",
// "workload") as a document of its own (positions stay in the file).
void register_resolved_chips(const Doc& doc, ChipCatalog& catalog);
Doc resolved_part(const Doc& doc, const std::string& part);

// Loads in.topology (load_topology), keeping the document as loaded for the resolved config.
Topology load_run_topology(RunInputs& in, ChipCatalog& catalog);

// The text of config.resolved.yaml for a loaded run.
std::string resolved_config_text(const RunInputs& in, const std::string& topology_path,
                                 const std::string& workload_path, const Topology& topo,
                                 const Workload& workload, const RunOptions& opt);

}  // namespace llmsim
