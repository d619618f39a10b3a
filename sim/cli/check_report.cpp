// `llmsim check TOPOLOGY.yaml`: loads and validates the topology, then reports what it
// built and its headline figures (docs/topologies.md "Metrics").
#include <sstream>
#include <map>
#include <ostream>

#include "sim/cli/commands.h"
#include "sim/topo/topology.h"

namespace llmsim {

void check_topology_doc(const Doc& doc, ChipCatalog& catalog, std::ostream& out) {
  Topology t = load_topology(doc, catalog);
  // Report text is built first so a failure part-way prints nothing.
  std::ostringstream os;
  std::map<std::string, int> chips;
  for (const ChipSpec* c : t.device_chip) ++chips[c->name];
  os << doc.path << ": topology " << t.name << "\n";
  os << "  devices:    ";
  bool first = true;
  for (const auto& [name, n] : chips) {
    os << (first ? "" : " + ") << n << " x " << name;
    first = false;
  }
  if (t.nodes > 1) os << " (" << t.nodes << " nodes x " << t.devices_per_node << ")";
  os << "\n  switches:   " << t.num_switches() << "\n";
  os << "  links:      " << t.links.size() << " (full duplex)\n";
  for (const FabricInfo& f : t.fabrics) {
    os << "  fabric:     " << f.name << " [" << f.type << ", " << f.shape;
    if (!f.dims.empty() && (f.shape == "torus" || f.shape == "mesh")) {
      os << " ";
      for (size_t i = 0; i < f.dims.size(); ++i) os << (i ? "x" : "") << f.dims[i];
    }
    if (f.rails > 0) os << ", " << f.rails << " rails";
    if (f.in_network_reduction) {
      os << ", in-network reduction (efficiency " << f.reduction_efficiency << ", startup "
         << format_quantity(f.reduction_startup, Dim::Time) << ": " << f.reduction_source << ")";
    }
    os << "] " << format_quantity(f.link.bandwidth * f.parallel, Dim::Bandwidth) << " per link per direction, "
       << format_quantity(f.link.latency, Dim::Time) << (f.level > 0 ? ", level " + std::to_string(f.level) : "") << "\n";
  }
  os << "  diameter:   " << t.diameter_hops() << (t.diameter_hops() == 1 ? " hop\n" : " hops\n");
  os << "  bisection:  " << format_quantity(t.bisection_bandwidth(), Dim::Bandwidth) << " per direction\n";
  double lo = 0, hi = 0;
  for (int d = 0; d < t.num_devices(); ++d) {
    double b = t.injection_bandwidth(d);
    lo = d == 0 ? b : std::min(lo, b);
    hi = d == 0 ? b : std::max(hi, b);
  }
  os << "  injection:  " << format_quantity(lo, Dim::Bandwidth);
  if (hi > lo * (1 + 1e-9)) os << " to " << format_quantity(hi, Dim::Bandwidth);
  os << " per device per direction\n";
  out << os.str();
}

}  // namespace llmsim
