// `llmsim check FILE...`: tells what each file is and validates it fully.
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/core/error.h"
#include "sim/engine/resolved_config.h"
#include "sim/topo/topology.h"

namespace llmsim {

std::string classify_doc(const Doc& doc) {
  const YAML::Node& r = doc.root;
  if (r["llmsim_resolved"]) return "resolved";  // OUTDIR/config.resolved.yaml
  if (r["kind"]) return "workload";
  if (r["num_hidden_layers"] || r["hidden_size"] || r["n_layer"] || r["architectures"]) return "model";
  if (r["compute"] && r["memory"]) return "chip";
  if (r["fabrics"] || r["nodes"] || r["links"] || r["count"] || r["device"]) return "topology";
  return "";
}

void check_resolved_doc(const Doc& doc, ChipCatalog& catalog, std::ostream& out) {
  register_resolved_chips(doc, catalog);
  check_topology_doc(resolved_part(doc, "topology"), catalog, out);
  check_workload_doc(resolved_part(doc, "workload"), catalog, out);
}

int cmd_check(const std::vector<std::string>& files, const std::vector<Override>& overrides, std::ostream& out) {
  ChipCatalog catalog(default_catalog_dir());
  Topology topo;  // the last topology checked: workloads after it are checked against it
  bool have_topo = false;
  for (const auto& f : files) {
    Doc doc = load_doc(f);
    std::string kind = classify_doc(doc);
    apply_overrides(doc, kind.empty() ? "?" : kind, overrides);
    if (kind == "workload") check_workload_doc(doc, catalog, out, have_topo ? &topo : nullptr);
    else if (kind == "model") check_model_doc(doc, out);
    else if (kind == "chip") check_chip_doc(doc, out);
    else if (kind == "topology") {
      check_topology_doc(doc, catalog, out);
      topo = load_topology(doc, catalog);
      have_topo = true;
    }
    else if (kind == "resolved") check_resolved_doc(doc, catalog, out);
    else {
      throw InputError({f, 1, 1}, "cannot tell what this file is: expected a topology (fabrics/count/device), "
                                  "a chip (compute, memory), a workload (kind) or a model (hidden_size)");
    }
  }
  return 0;
}

}  // namespace llmsim
