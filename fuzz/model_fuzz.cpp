// The model loader: catalog YAML (strict) or HuggingFace config.json (lenient), chosen by
// the first byte; then the parameter and KV-cache arithmetic `fit` and inference use, which
// must come out finite and non-negative for any accepted model.
#include <cmath>
#include <sstream>

#include "fuzz/fuzz_common.h"
#include "sim/llm/model.h"

using namespace llmsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  bool json = data[0] & 1;
  std::string text = llmsim_fuzz::to_text(data + 1, size - 1);
  llmsim_fuzz::expect_contract([&] {
    std::string name = llmsim_fuzz::root() + "/workloads/models/fuzz-input" + (json ? ".json" : ".yaml");
    std::ostringstream warnings;  // unknown model_type etc.: not the fuzzer's concern
    ModelSpec m = load_model(parse_doc(text, name), &warnings);
    double figures[] = {m.params(), m.active_params(), m.fit_params(), m.kv_bytes_per_token(2.0)};
    for (double v : figures) {
      if (!std::isfinite(v) || v < 0) {
        std::fprintf(stderr, "fuzz: model accepted with a parameter/KV figure of %g\n", v);
        std::abort();
      }
    }
  });
  return 0;
}
