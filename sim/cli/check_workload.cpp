// The workload part of `llmsim check`: the kind's own loader validates the document
// against an empty topology (device names are checked at `run` time), or against the
// topology named before it on the command line; then the kind describes what it resolved.
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/engine/faults.h"
#include "sim/engine/workload.h"

namespace llmsim {

void check_workload_doc(const Doc& doc, ChipCatalog& catalog, std::ostream& out, const Topology* topo) {
  YAML::Node k = static_cast<const YAML::Node&>(doc.root)["kind"];
  std::string kind = as_string(k, doc.file_of("kind"), "workload.kind");
  auto w = WorkloadRegistry::make(kind);
  if (!w) throw InputError(pos_of(k, doc.file_of("kind")), "workload.kind: unknown kind '" + kind + "'");
  Topology empty;
  Doc without_faults = doc;  // shares doc's tree, which nothing reads after this check
  std::vector<Fault> faults = take_faults(without_faults, topo ? *topo : empty);
  w->load(without_faults, topo ? *topo : empty, catalog);
  if (!faults.empty()) out << doc.path << ": " << faults.size() << " fault(s), first " << faults.front().text() << "\n";
  out << doc.path << ": " << kind << " workload ok" << (topo ? " on " + topo->name : std::string()) << "\n";
  w->describe(out);
}

}  // namespace llmsim
