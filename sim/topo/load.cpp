// Topology loading (issue 2, item 5). Placeholder until the topology work lands.
#include "sim/cli/commands.h"
#include "sim/topo/topology.h"

namespace llmsim {

Topology load_topology(const Doc& doc, ChipCatalog& catalog) {
  (void)catalog;
  throw InputError({doc.path, 1, 1}, "topology loading is not implemented yet");
}

const Route& Topology::route(int, int) const { throw InfeasibleError("routing not implemented yet"); }
int Topology::device_by_name(const std::string&) const { return -1; }
int Topology::diameter_hops() const { return 0; }
BytesPerSecond Topology::bisection_bandwidth() const { return 0; }
BytesPerSecond Topology::injection_bandwidth(int) const { return 0; }
void Topology::finalize() {}

void check_topology_doc(const Doc& doc, ChipCatalog& catalog, std::ostream& out) {
  Topology t = load_topology(doc, catalog);
  out << doc.path << ": ok\n";
}

}  // namespace llmsim
