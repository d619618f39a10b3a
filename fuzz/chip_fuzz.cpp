// The chip loader on arbitrary documents (named inside topologies/devices/ like catalog
// entries), then the derived figures reports use.
#include "fuzz/fuzz_common.h"
#include "sim/spec/chip.h"

using namespace llmsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text = llmsim_fuzz::to_text(data, size);
  llmsim_fuzz::expect_contract([&] {
    Doc doc = parse_doc(text, llmsim_fuzz::root() + "/topologies/devices/fuzz-input.yaml");
    ChipSpec chip = load_chip(doc);
    (void)chip.total_capacity();
    (void)chip.main_tier();  // load_chip must have checked that the weights tier exists
    for (const auto& kv : chip.compute.peak) (void)chip.compute.flops_per_cycle_per_unit(kv.first, chip.clock);
  });
  return 0;
}
