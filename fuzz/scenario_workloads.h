// The workload half of a fuzz scenario (fuzz/scenario.h): a microbench (docs/microbench.md)
// or a serving run (docs/inference.md) as YAML text.
#pragma once
#include <string>
#include <vector>

#include "fuzz/scenario_reader.h"

namespace llmsim_fuzz {
namespace detail {

inline std::string size_text(long long bytes) { return std::to_string(bytes) + " B"; }

// `after:` naming earlier ops by label or position, `[]` (start at 0), or nothing (after
// the previous entry).
inline std::string after_text(int index, ByteReader& in) {
  int mode = in.range(0, 3);
  if (index == 0 || mode == 0) return "";
  if (mode == 1) return ", after: []";
  std::string s = ", after: [";
  int k = in.range(1, index < 3 ? index : 3);
  for (int j = 0; j < k; ++j) {
    int ref = in.range(0, index - 1);
    s += (j ? ", " : "") + (in.flip() ? "op" + std::to_string(ref) : std::to_string(ref));
  }
  return s + "]";
}

inline std::string group_text(int n, ByteReader& in) {
  if (in.flip()) return "all";
  std::vector<int> members;
  for (int i = 0; i < n; ++i) if (in.range(0, 2) != 0) members.push_back(i);
  if (members.size() < 2) return "all";
  std::string s = "[";
  for (std::size_t i = 0; i < members.size(); ++i) s += (i ? ", " : "") + gpu(members[i]);
  return s + "]";
}

// `dtypes`: what the chip runs (mostly) or any dtype (sometimes: a refusal to exercise).
inline std::string dtype_choice(const std::vector<std::string>& dtypes, ByteReader& in) {
  static const std::vector<std::string> any = {"bf16", "fp16", "fp8", "fp32", "int8"};
  return in.range(0, 15) == 0 ? in.pick(any) : in.pick(dtypes);
}

inline std::string compute_op(int n, const std::vector<std::string>& dtypes, ByteReader& in) {
  std::string dev = ", device: " + gpu(in.range(0, n - 1));
  std::string dtype = in.flip() ? "auto" : dtype_choice(dtypes, in);
  std::string common = ", dtype: " + dtype + ", repeat: " + std::to_string(in.range(1, 2));
  switch (in.range(0, 5)) {
    case 0:
      return "{op: gemm, m: " + std::to_string(in.sized(0, 12)) + ", n: " + std::to_string(in.sized(0, 12)) +
             ", k: " + std::to_string(in.sized(0, 12)) + ", batch: " + std::to_string(in.range(1, 4)) + dev + common +
             (in.flip() ? ", stream: compute1" : "");
    case 1: {
      int kv = 1 << in.range(0, 3);
      return "{op: attention, batch: " + std::to_string(in.range(1, 4)) + ", heads: " + std::to_string(kv * in.range(1, 4)) +
             ", kv_heads: " + std::to_string(kv) + ", head_dim: " + (in.flip() ? "64" : "128") +
             ", q_len: " + std::to_string(in.sized(0, 9)) + ", kv_len: " + std::to_string(in.sized(9, 11)) + dev + common;
    }
    case 2:
      return "{op: copy, bytes: " + size_text(in.sized(10, 26)) + dev + (in.flip() ? ", stream: copy" : "");
    case 3:
      return "{op: elementwise, elements: " + std::to_string(in.sized(4, 22)) + dev + common;
    default:
      return "{op: " + in.pick(std::vector<std::string>{"norm", "softmax", "rotary", "embedding", "sampling"}) +
             ", m: " + std::to_string(in.sized(0, 10)) + ", n: " + std::to_string(in.sized(4, 13)) + dev + common;
  }
}

inline std::string network_op(int n, ByteReader& in, std::vector<std::string>& later) {
  int a = in.range(0, n - 1), b = in.range(0, n - 1);
  if (a == b) b = (a + 1) % n;
  std::string bytes = size_text(in.sized(10, 24));
  switch (in.range(0, 3)) {
    case 0:
      return "{op: sendrecv, bytes: " + bytes + ", from: " + gpu(a) + ", to: " + gpu(b);
    case 1: {
      // A recv posted at time 0 (or, sometimes, in line: a deadlock the watchdog reports).
      std::string tag = std::to_string(in.range(0, 2));
      later.push_back("{op: recv, from: " + gpu(a) + ", to: " + gpu(b) + ", bytes: " + bytes + ", tag: " + tag +
                      (in.range(0, 7) ? ", after: []" : ""));
      return "{op: send, from: " + gpu(a) + ", to: " + gpu(b) + ", bytes: " + bytes + ", tag: " + tag;
    }
    default: {
      static const std::vector<std::string> kinds = {"allreduce", "allgather", "reducescatter", "alltoall", "broadcast", "reduce"};
      static const std::vector<std::string> algos = {"ring", "direct", "tree", "halving-doubling", "torus"};
      // Mostly `auto`: a named algorithm the group or fabric cannot run is refused.
      std::string algo = in.range(0, 7) == 0 ? in.pick(algos) : "auto";
      return "{op: " + in.pick(kinds) + ", bytes: " + bytes + ", group: " + group_text(n, in) +
             ", algorithm: " + algo + ", repeat: " + std::to_string(in.range(1, 2));
    }
  }
}

// A link (or device) change at a time inside the run's first ~100 us.
inline std::string event_text(int n, const std::vector<Fabric>& fabrics, ByteReader& in, Scenario& sc) {
  std::string at = "{at: " + std::to_string(in.range(0, 100000)) + " ns, ";
  int a = in.range(0, n - 1);
  if (in.range(0, 4) == 0) return at + "device: " + gpu(a) + ", clock: " + std::to_string(in.range(10, 100)) + "%}";
  const Fabric& f = in.pick(fabrics);
  // Mostly the next device (linked on rings, tori, meshes, full meshes) or the switch.
  int b = in.range(0, 3) ? (a + 1) % n : in.range(0, n - 1);
  std::string other = f.shape == "switch" ? f.name + ".sw0" : gpu(b);
  std::string link = gpu(a) + "-" + other;
  std::string one_way = gpu(a) + (in.range(0, 3) == 0 ? "->" : "-") + other;  // bandwidth only
  switch (in.range(0, 3)) {
    case 0: return at + "link: " + link + ", state: down}";
    case 1: return at + "link: " + link + ", state: up}";
    case 2: return at + "link: " + one_way + ", bandwidth: " + std::to_string(in.range(1, 100)) + "%}";
    default: {
      int gbps = in.range(1, 1000);
      if (gbps * 1e9 > sc.max_event_bandwidth) sc.max_event_bandwidth = gbps * 1e9;
      return at + "link: " + link + ", bandwidth: " + std::to_string(gbps) + " GB/s" + (in.flip() ? ", state: up}" : "}");
    }
  }
}

}  // namespace detail

inline std::string microbench_yaml(int n, const std::vector<detail::Fabric>& fabrics,
                                   const std::vector<std::string>& dtypes, ByteReader& in, Scenario& sc) {
  std::string s = "kind: microbench\nops:\n";
  int count = in.range(1, 6);
  std::vector<std::string> lines;
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> later;
    std::string op = in.range(0, 2) == 0 ? detail::compute_op(n, dtypes, in) : detail::network_op(n, in, later);
    int index = static_cast<int>(lines.size());
    lines.push_back(op + ", label: op" + std::to_string(index) + detail::after_text(index, in) + "}");
    // A recv's label too, so every `opK` an `after:` names exists.
    for (const auto& l : later) lines.push_back(l + ", label: op" + std::to_string(lines.size()) + "}");
  }
  for (const auto& l : lines) s += "  - " + l + "\n";
  int events = in.range(0, 3) == 0 ? in.range(1, 4) : 0;
  if (events) s += "events:\n";
  for (int i = 0; i < events; ++i) s += "  - " + detail::event_text(n, fabrics, in, sc) + "\n";
  return s;
}

inline std::string inference_yaml(int n, const std::vector<std::string>& dtypes, ByteReader& in, Scenario& sc) {
  std::vector<int> divs;
  for (int k = 1; k <= n; ++k) if (n % k == 0) divs.push_back(k);
  int tp = in.pick(divs);
  std::vector<int> pdivs;
  for (int k = 1; k <= n / tp; ++k) if ((n / tp) % k == 0) pdivs.push_back(k);
  int pp = in.pick(pdivs);
  int replicas = n / (tp * pp);
  int kv_heads = tp * in.range(1, 2);
  int heads = kv_heads * in.range(1, 4);
  int head_dim = 16 * in.range(1, 8);
  int layers = pp * in.range(1, 3) + in.range(0, pp - 1);
  sc.model = "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_act\": \"silu\", "
             "\"hidden_size\": " + std::to_string(heads * head_dim) + ", \"num_hidden_layers\": " + std::to_string(layers) +
             ", \"num_attention_heads\": " + std::to_string(heads) + ", \"num_key_value_heads\": " + std::to_string(kv_heads) +
             ", \"intermediate_size\": " + std::to_string(tp * 64 * in.range(1, 16)) +
             ", \"vocab_size\": " + std::to_string(tp * 256 * in.range(1, 64)) +
             ", \"max_position_embeddings\": " + std::to_string(in.sized(8, 13)) + "}\n";
  std::string s = "kind: inference\nmodel: model.json\ndtype: " + detail::dtype_choice(dtypes, in) + "\n";
  s += "parallelism: {tp: " + std::to_string(tp) + ", pp: " + std::to_string(pp) +
       ", pipeline_engines: " + std::to_string(in.range(1, pp)) + "}\n";
  s += "scheduler: {max_batch: " + std::to_string(in.range(1, 64)) + ", max_batched_tokens: " +
       std::to_string(in.sized(6, 12)) + ", chunked_prefill: " + (in.range(0, 3) ? "true" : "false") +
       ", block_size: " + std::to_string(8 << in.range(0, 2)) + "}\n";
  s += std::string("router: ") + (in.flip() ? "least-loaded" : "round-robin") + "\n";
  if (replicas >= 2 && in.range(0, 2) == 0) {
    s += "disaggregation: {prefill_replicas: " + std::to_string(in.range(1, replicas - 1)) + "}\n";
  }
  sc.requests = in.range(1, 12);
  static const std::vector<std::string> arrivals = {"poisson", "gamma", "fixed", "at-once"};
  std::string arrival = in.pick(arrivals);
  s += "requests:\n  count: " + std::to_string(sc.requests) + "\n  arrival: " + arrival + "\n";
  if (arrival != "at-once") s += "  rate: " + std::to_string(in.range(1, 2000)) + "/s\n";
  if (arrival == "gamma") s += "  cv: " + std::to_string(in.range(1, 4)) + "\n";
  // Few output tokens: each is an iteration of every replica (timeline spans, collectives).
  s += "  prompt_tokens: " + (in.flip() ? std::to_string(in.sized(0, 10))
                                        : "{dist: uniform, min: 1, max: " + std::to_string(in.sized(1, 10)) + "}") + "\n";
  s += "  output_tokens: " + (in.flip() ? std::to_string(in.sized(0, 5))
                                        : "{dist: lognormal, median: " + std::to_string(in.range(1, 16)) +
                                              ", sigma: 0.8, max: 48}") + "\n";
  s += "  seed: " + std::to_string(in.range(0, 1000)) + "\n";
  if (in.range(0, 3) == 0) s += "slo: {ttft: " + std::to_string(in.range(1, 500)) + " ms, tpot: 20 ms}\n";
  return s;
}

}  // namespace llmsim_fuzz
