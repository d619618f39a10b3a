#include "sim/workloads/inference/kv_fit.h"

#include "sim/core/error.h"
#include "sim/core/units.h"

namespace llmsim {

void check_kv_holds_a_request(const std::vector<Request>& reqs, std::int64_t blocks, std::int64_t block_size,
                              std::int64_t engines, const KvFit& fit) {
  if (reqs.empty()) return;
  std::size_t small = 0;
  auto tokens_of = [&](std::size_t i) { return reqs[i].prompt_tokens + reqs[i].output_tokens; };
  for (std::size_t i = 1; i < reqs.size(); ++i)
    if (tokens_of(i) < tokens_of(small)) small = i;
  const Request& q = reqs[small];
  const std::int64_t tokens = tokens_of(small);
  // The scheduler's own test (ReplicaScheduler::can_ever_fit): whole blocks.
  if ((tokens + block_size - 1) / block_size <= blocks) return;
  const double share = fit.budget / static_cast<double>(engines);
  throw InfeasibleError(
      fit.device + ": the KV cache cannot hold even the smallest request (id " + std::to_string(q.id) + ": " +
      std::to_string(q.prompt_tokens) + " prompt + " + std::to_string(q.output_tokens) + " output = " +
      std::to_string(tokens) + " tokens x " + format_quantity(fit.kv_tok, Dim::Size) + "/token = " +
      format_quantity(static_cast<double>(tokens) * fit.kv_tok, Dim::Size) + ") but the free KV memory is " +
      format_quantity(share, Dim::Size) + (engines > 1 ? " per pipeline engine" : "") + " = " + std::to_string(blocks) +
      " blocks of " + std::to_string(block_size) + " tokens (" + std::to_string(blocks * block_size) +
      " tokens); every request would be rejected. Use more tp/pp, a smaller kv_dtype or a higher "
      "scheduler.memory_utilization");
}

}  // namespace llmsim
