// Shared body of the four trace-reader targets (one per format, so each gets a corpus of
// its own format). The first byte varies offset/limit/time_scale; the rest is the file.
#pragma once
#include <cmath>

#include "fuzz/fuzz_common.h"
#include "sim/traces/request.h"

namespace llmsim_fuzz {

inline int fuzz_trace(const std::uint8_t* data, std::size_t size, const char* format) {
  if (size < 1) return 0;
  llmsim::TraceOptions o;
  o.format = format;
  o.offset = data[0] & 3;
  o.limit = (data[0] >> 2) & 7;
  o.time_scale = (data[0] & 0x20) ? 0.5 : 1.0;
  std::string text = to_text(data + 1, size - 1);
  expect_contract([&] {
    llmsim::PrefixKeys keys;
    auto reqs = llmsim::read_trace_text(text, std::string("fuzz.") + format, o, &keys);
    // What the inference workload relies on: ids in order, arrivals sorted and finite,
    // token counts in range.
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      const auto& r = reqs[i];
      bool ok = r.id == i && std::isfinite(r.arrival) && r.arrival >= 0 &&
                (i == 0 || r.arrival >= reqs[i - 1].arrival) && r.prompt_tokens >= 0 &&
                r.output_tokens >= 0 && r.prompt_tokens <= llmsim::kMaxTokensPerRequest &&
                r.output_tokens <= llmsim::kMaxTokensPerRequest &&
                std::uint64_t{r.key_begin} + r.key_count <= keys.keys.size();
      if (!ok) {
        std::fprintf(stderr, "fuzz: trace row %zu accepted with arrival %g, tokens %lld/%lld\n", i, r.arrival.value(),
                     static_cast<long long>(r.prompt_tokens), static_cast<long long>(r.output_tokens));
        std::abort();
      }
    }
  });
  return 0;
}

}  // namespace llmsim_fuzz
