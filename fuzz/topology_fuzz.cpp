// The topology loader (shapes, hierarchy via nodes:, explicit links) on arbitrary documents
// named inside topologies/ so `nodes:` and chip references resolve against shipped files;
// then the figures `llmsim check` reports and one route. Only small topologies are walked:
// the loader itself accepts up to its device limit, which the fuzzer must not spend its
// memory budget on (resource_guard covers large ones, test_limits_large.cpp).
#include "fuzz/fuzz_common.h"
#include "sim/topo/topology.h"

using namespace llmsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text = llmsim_fuzz::to_text(data, size);
  llmsim_fuzz::expect_contract([&] {
    static ChipCatalog catalog(llmsim_fuzz::root() + "/topologies/devices");
    Doc doc = parse_doc(text, llmsim_fuzz::root() + "/topologies/fuzz-input.yaml");
    Topology t = load_topology(doc, catalog);
    if (t.num_devices() > 512 || t.vertices.size() > 1024) return;
    (void)t.diameter_hops();
    (void)t.bisection_bandwidth();
    (void)t.injection_bandwidth(0);
    (void)t.route(0, t.num_devices() - 1);
  });
  return 0;
}
