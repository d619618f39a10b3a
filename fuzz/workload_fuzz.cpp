// Workload loaders: WorkloadRegistry::make(kind)->load on arbitrary documents (named inside
// workloads/ so model and trace references resolve), against an empty Topology as the brief
// for this target asks, and against dgx-h100 so device references can succeed.
#include "fuzz/fuzz_common.h"
#include "sim/engine/workload.h"

using namespace llmsim;

namespace {
ChipCatalog& catalog() {
  static ChipCatalog c(llmsim_fuzz::root() + "/topologies/devices");
  return c;
}
const Topology& dgx() {
  static Topology t = load_topology(load_doc(llmsim_fuzz::root() + "/topologies/dgx-h100.yaml"), catalog());
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  bool empty_topo = data[0] & 1;
  std::string text = llmsim_fuzz::to_text(data + 1, size - 1);
  llmsim_fuzz::expect_contract([&] {
    Doc doc = parse_doc(text, llmsim_fuzz::root() + "/workloads/fuzz-input.yaml");
    std::string kind = as_string(doc.root["kind"], doc.path, "workload.kind");
    std::unique_ptr<Workload> w = WorkloadRegistry::make(kind);
    if (!w) return;
    Topology empty;
    w->load(doc, empty_topo ? empty : dgx(), catalog());
  });
  return 0;
}
