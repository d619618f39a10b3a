// Pipeline schedules as per-stage orders of forward / backward passes (pure functions,
// unit-tested without a kernel). The executor (training.cpp) turns each stage's order into
// a chain of op-graph nodes and links the stages by the activations and gradients they
// exchange, so the bubble comes out of the dependencies, not out of a formula.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace llmsim {

struct PipeItem {
  bool forward = true;
  std::int64_t micro_batch = 0;
  std::int64_t chunk = 0;  // model chunk on this device (interleaved-1f1b; else 0)
};

// The order in which pipeline stage `stage` (of `pp`) runs its passes for `micro_batches`
// micro-batches:
//   gpipe             all forwards, then all backwards (Huang et al. 2019);
//   1f1b              min(pp - stage - 1, m) warm-up forwards, then one forward / one
//                     backward alternately, then the remaining backwards (PipeDream-Flush,
//                     Narayanan et al. 2021 §2.2);
//   interleaved-1f1b  Megatron-LM's forward_backward_pipelining_with_interleaving with
//                     `chunks` model chunks per device: warm-up (pp - stage - 1) x 2 +
//                     (chunks - 1) x pp forwards (all of them when m == pp), chunk order in
//                     groups of pp micro-batches, backwards visiting the chunks in reverse.
std::vector<PipeItem> pipeline_order(const std::string& schedule, std::int64_t pp, std::int64_t stage,
                                     std::int64_t micro_batches, std::int64_t chunks);

}  // namespace llmsim
