// The workload part of `llmsim check`: the kind's own loader validates the document
// against an empty topology (device names are checked at `run` time).
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/engine/workload.h"

namespace llmsim {

void check_workload_doc(const Doc& doc, ChipCatalog& catalog, std::ostream& out) {
  YAML::Node k = static_cast<const YAML::Node&>(doc.root)["kind"];
  std::string kind = as_string(k, doc.file_of("kind"), "workload.kind");
  auto w = WorkloadRegistry::make(kind);
  if (!w) throw InputError(pos_of(k, doc.file_of("kind")), "workload.kind: unknown kind '" + kind + "'");
  Topology empty;
  w->load(doc, empty, catalog);
  out << doc.path << ": " << kind << " workload ok\n";
}

}  // namespace llmsim
