// parse_quantity on arbitrary text for every Dim: the first byte picks the dimension, the
// rest is the text. Success must give a finite value (an infinite bandwidth or time would
// reach integer conversions such as to_simtime as undefined behaviour).
#include <cmath>

#include "fuzz/fuzz_common.h"
#include "sim/core/units.h"

using namespace llmsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int kDims = static_cast<int>(Dim::Energy) + 1;
  Dim dim = static_cast<Dim>(data[0] % kDims);
  std::string text = llmsim_fuzz::to_text(data + 1, size - 1);
  double v = 0;
  try {
    v = parse_quantity(text, dim);
  } catch (const UnitError& e) {
    // The offset positions the caret under the problem; it must lie inside the text.
    if (e.offset < 0 || static_cast<std::size_t>(e.offset) > text.size()) {
      std::fprintf(stderr, "fuzz: UnitError offset %d outside text of %zu bytes\n", e.offset, text.size());
      std::abort();
    }
    return 0;
  }
  if (!std::isfinite(v)) {
    std::fprintf(stderr, "fuzz: parse_quantity accepted a non-finite value\n");
    std::abort();
  }
  (void)format_quantity(v, dim);
  return 0;
}
