// `kind: inference` parameters, declared once (sim/core/params.h); parse_inference reads
// them by name. Defaults cite where they come from (vLLM's engine arguments mostly).
#include "sim/core/params.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kInferenceDoc = "docs/inference.md";
const char* const kVllm = "vLLM EngineArgs";
const char* const kInferenceKind = "workload:inference";

// A token count given as a map (prompt_tokens, output_tokens).
std::vector<P> token_dist() {
  return {
      P::opt("dist", T::Choice, "fixed", "distribution").one_of({"fixed", "uniform", "lognormal"}).from(kInferenceDoc),
      P::opt("value", T::Positive, "", "fixed: the count (required)").from(kInferenceDoc),
      P::opt("min", T::Positive, "1", "uniform: lower bound (required); lognormal: clamp").from(kInferenceDoc),
      P::opt("max", T::Integer, "0", "uniform: upper bound (required); lognormal: clamp (0 = none)")
          .from(kInferenceDoc),
      P::opt("sigma", T::Number, "", "lognormal: log-space sigma in [0, 5] (required)").from(kInferenceDoc),
      P::opt("median", T::Number, "", "lognormal: median tokens (or mean)").from(kInferenceDoc),
      P::opt("mean", T::Number, "", "lognormal: mean tokens (or median)").from(kInferenceDoc),
  };
}

}  // namespace

LLMSIM_DECLARE_PARAMS(
    inf_root,
    {kInferenceKind,
     "workload:inference",
     "LLM serving: model, parallelism, scheduler, requests",
     {
         P::req("kind", T::String, "inference").from(kInferenceDoc),
         P::opt("name", T::String, "", "label").from(kInferenceDoc),
         P::opt("description", T::String, "", "free text").from(kInferenceDoc),
         P::req("model", T::String, "workloads/models name, or a model YAML / config.json path").from(kInferenceDoc),
         P::opt("dtype", T::String, "bf16",
                "weights and GEMMs: fp64 fp32 tf32 bf16 fp16 fp8 int8 int4 w8a16 (8-bit weights, "
                "16-bit compute)")
             .from(kInferenceDoc),
         P::derive("kv_dtype", T::String, "dtype (fp16 for int4 weights; the chip's 16-bit type for w8a16)",
                   "KV cache and attention")
             .from(kInferenceDoc),
         P::opt("parallelism", T::Map, "", "tensor / pipeline parallelism, replicas")
             .nested("workload:inference.parallelism")
             .from(kInferenceDoc),
         P::opt("scheduler", T::Map, "", "continuous batching (vLLM-style)")
             .nested("workload:inference.scheduler")
             .from(kInferenceDoc),
         P::opt("software", T::Any, "",
                "software stack: a name under topologies/software/ or a stack map "
                "(default: topologies/software/defaults.yaml by chip)")
             .from("docs/software.md"),
         P::opt("router", T::Choice, "round-robin", "how requests pick a replica")
             .one_of({"round-robin", "least-loaded", "prefix-affinity"})
             .from(kInferenceDoc),
         P::opt("router_load_cap", T::Number, "2.0",
                "prefix-affinity: the longest-prefix replica is kept while its outstanding tokens are at most this "
                "multiple "
                "of the least-loaded replica's plus one iteration's max_batched_tokens; else least-loaded")
             .from(kInferenceDoc),
         P::opt("disaggregation", T::Map, "", "prefill / decode split (Splitwise, DistServe)")
             .nested("workload:inference.disaggregation")
             .from(kInferenceDoc),
         P::opt("trace", T::Map, "", "a recorded trace; or `requests`")
             .nested("workload:inference.trace")
             .from(kInferenceDoc),
         P::opt("requests", T::Map, "", "synthetic requests; or `trace`")
             .nested("workload:inference.requests")
             .from(kInferenceDoc),
         P::opt("speculative", T::Map, "", "speculative decoding: a draft model or heads, k proposals, acceptance")
             .nested("workload:inference.speculative")
             .from(kInferenceDoc),
         P::opt("slo", T::Map, "", "latency targets: summary.json inference.slo (attainment, goodput)")
             .nested("workload:inference.slo")
             .from("vLLM benchmark_serving --goodput"),
     }});

LLMSIM_DECLARE_PARAMS(
    inf_slo,
    {kInferenceKind,
     "workload:inference.slo",
     "",
     {
         P::opt("ttft", T::Quantity, "", "time to first token a request must not exceed (absent = no bound)")
             .unit(Dim::Time)
             .from(kInferenceDoc),
         P::opt("tpot", T::Quantity, "", "time per output token a request must not exceed (absent = no bound)")
             .unit(Dim::Time)
             .from(kInferenceDoc),
         P::opt("stop_below_attainment", T::Number, "",
                "stop the run (partial, exit 3) once this share of all requests can no longer meet both bounds")
             .from("docs/plan.md"),
     }});

LLMSIM_DECLARE_PARAMS(
    inf_parallelism,
    {kInferenceKind,
     "workload:inference.parallelism",
     "",
     {
         P::opt("tp", T::Positive, "1", "tensor-parallel degree").from(kInferenceDoc),
         P::opt("pp", T::Positive, "1", "pipeline stages").from(kInferenceDoc),
         P::derive("replicas", T::Positive, "devices / (tp x pp)", "model replicas").from(kInferenceDoc),
         P::opt("algorithm", T::String, "auto", "collective algorithm for tp all-reduces").from(kInferenceDoc),
         P::opt("tp_rows", T::Integer, "0",
                "2-D tensor parallelism: chips per column group, which shard heads and FFN (tp_rows x tp_cols = tp; "
                "0 = 1-D: one group of tp)")
             .from("[POPE-INFER] 2-D weight-stationary; docs/models.md"),
         P::opt("tp_cols", T::Integer, "0",
                "2-D tensor parallelism: chips per row group, which shard the hidden dimension (rank = row x tp_cols "
                "+ col)")
             .from("[POPE-INFER] 2-D weight-stationary; docs/models.md"),
         P::opt("decode_attention", T::Choice, "heads",
                "2-D tensor parallelism: how decode attention is sharded: heads (over the tp_rows of a column, the "
                "sequences over the tp_cols of a row) or batch (each chip attends all heads of a tp-th of the "
                "sequences and keeps their whole KV; two all-to-alls a layer over the columns)")
             .one_of({"heads", "batch"})
             .from("[POPE-INFER] multiquery attention sharded over the batch; docs/models.md"),
         P::opt("weights", T::Choice, "stationary",
                "how the tp group holds the weights: stationary (each chip keeps and multiplies its shard; "
                "activations move) or gathered (each chip keeps 1/tp, all-gathers every layer's weights before "
                "it and runs whole layers on a tp-th of the tokens: large-batch prefill; 1-D, dense models)")
             .one_of({"stationary", "gathered"})
             .from("[POPE-INFER] weight-gathered layouts; docs/models.md"),
         P::opt("pipeline_engines", T::Positive, "1", "batches in flight per replica (vLLM virtual engines)")
             .from(kVllm),
     }});

LLMSIM_DECLARE_PARAMS(
    inf_scheduler,
    {kInferenceKind,
     "workload:inference.scheduler",
     "",
     {
         P::opt("max_batch", T::Positive, "256", "running sequences (max_num_seqs)").from(kVllm),
         P::opt("max_batched_tokens", T::Positive, "8192", "tokens per iteration (max_num_batched_tokens)").from(kVllm),
         P::opt("chunked_prefill", T::Boolean, "true", "split long prompts across iterations").from(kVllm),
         P::opt("block_size", T::Positive, "16", "KV block in tokens (PagedAttention)").from("Kwon et al. SOSP 2023"),
         P::opt("memory_utilization", T::Number, "0.9", "share of the KV tier the engine may use, (0, 1]")
             .from("vLLM gpu_memory_utilization"),
         P::opt("max_context", T::Integer, "0", "longest sequence (0 = the model's max_position_embeddings)")
             .from(kInferenceDoc),
         P::opt(
             "watermark", T::Number, "0.01",
             "share of the KV blocks a new request's admission must leave free, [0, 0.5] (vLLM v0 BlockSpaceManager)")
             .from(kVllm),
         P::opt("prefix_caching", T::Boolean, "false",
                "automatic prefix caching: prompt blocks whose keys are cached skip prefill (needs prefix keys: a "
                "mooncake "
                "trace or requests.shared_prefix)")
             .from("vLLM enable_prefix_caching"),
         P::opt("preemption", T::Choice, "recompute",
                "what a preempted sequence's KV becomes: recompute (freed, prefilled again) or swap (copied to host "
                "memory over PCIe and back when it resumes)")
             .one_of({"recompute", "swap"})
             .from("vLLM preemption_mode"),
         P::opt("swap_space", T::Quantity, "4 GiB",
                "swap: host memory per device for swapped-out KV blocks; a "
                "preemption that does not fit recomputes")
             .unit(Dim::Size)
             .from("vLLM swap_space"),
         P::opt("kv_offload", T::Map, "", "offload tiers for evicted prefix-cache blocks (needs prefix_caching)")
             .nested("workload:inference.scheduler.kv_offload")
             .from("[LMCACHE]"),
     }});

LLMSIM_DECLARE_PARAMS(inf_kv_offload,
                      {kInferenceKind,
                       "workload:inference.scheduler.kv_offload",
                       "",
                       {
                           P::req("tiers", T::List,
                                  "offload tiers, nearest first: evictions go to the first, overflow to the next")
                               .nested("workload:inference.scheduler.kv_offload.tiers[]")
                               .from(kInferenceDoc),
                       }});

LLMSIM_DECLARE_PARAMS(
    inf_kv_offload_tier,
    {kInferenceKind,
     "workload:inference.scheduler.kv_offload.tiers[]",
     "",
     {
         P::req("tier", T::String,
                "ddr | cxl | ssd | remote (a pooled store over the RDMA fabric), or a memory tier of "
                "the chip other than its KV tier (SN40L: ddr)")
             .from(kInferenceDoc),
         P::derive("capacity", T::Quantity, "required off-chip; a chip tier: its bytes left after placement",
                   "bytes per device")
             .unit(Dim::Size)
             .from(kInferenceDoc),
         P::derive("bandwidth", T::Quantity, "required off-chip; a chip tier: its bandwidth",
                   "per device, tier side (a fetch streams at the min of this and the link's)")
             .unit(Dim::Bandwidth)
             .from(kInferenceDoc),
         P::derive("latency", T::Quantity, "0 s off-chip; a chip tier: its latency", "added to every fetch")
             .unit(Dim::Time)
             .from(kInferenceDoc),
         P::derive("link", T::Choice, "pcie for ddr, cxl, ssd; none for remote and chip tiers",
                   "the chip port that reaches the tier (its bandwidth bounds fetches)")
             .one_of({"pcie", "nvlink-c2c", "none"})
             .from(kInferenceDoc),
         P::opt("shared", T::Boolean, "false",
                "remote only: one pool for all replicas (Mooncake store): an entry one "
                "replica stored hits for every replica; capacity is then the pool's bytes, not per device")
             .from("[MOONCAKE-TRACE]"),
     }});

LLMSIM_DECLARE_PARAMS(inf_disaggregation,
                      {kInferenceKind,
                       "workload:inference.disaggregation",
                       "",
                       {
                           P::req("prefill_replicas", T::Positive, "replicas that only prefill").from(kInferenceDoc),
                       }});

LLMSIM_DECLARE_PARAMS(
    inf_trace,
    {kInferenceKind,
     "workload:inference.trace",
     "",
     {
         P::req("file", T::String, "trace file, relative to the workload or the project root").from(kInferenceDoc),
         P::opt("format", T::Choice, "azure",
                "azure (Azure LLM 2023 CSV) | csv | jsonl | mooncake (JSON lines with hash_ids)")
             .one_of({"azure", "csv", "jsonl", "mooncake"})
             .from(kInferenceDoc),
         P::opt("offset", T::Integer, "0", "rows skipped first").from(kInferenceDoc),
         P::opt("limit", T::Integer, "0", "rows kept (0 = the whole trace)").from(kInferenceDoc),
         P::opt("time_scale", T::Number, "1.0", "inter-arrival times multiplied by this (0.5 = twice the load)")
             .from(kInferenceDoc),
         P::opt("start", T::Quantity, "0 s", "arrival of the first kept row").unit(Dim::Time).from(kInferenceDoc),
     }});

LLMSIM_DECLARE_PARAMS(inf_requests,
                      {kInferenceKind,
                       "workload:inference.requests",
                       "",
                       {
                           P::req("count", T::Positive, "requests (at most 1e8)").from(kInferenceDoc),
                           P::opt("arrival", T::Choice, "poisson", "inter-arrival process")
                               .one_of({"poisson", "gamma", "fixed", "at-once"})
                               .from(kInferenceDoc),
                           P::opt("rate", T::Quantity, "", "arrivals per second (required unless at-once)")
                               .unit(Dim::Rate)
                               .from(kInferenceDoc),
                           P::opt("cv", T::Number, "", "gamma: coefficient of variation of inter-arrivals (required)")
                               .from("Splitwise, DistServe"),
                           P::req("prompt_tokens", T::Any, "a count, or a distribution (table below)")
                               .nested("workload:inference.requests.prompt_tokens")
                               .from(kInferenceDoc),
                           P::req("output_tokens", T::Any, "a count, or a distribution (table below)")
                               .nested("workload:inference.requests.output_tokens")
                               .from(kInferenceDoc),
                           P::opt("seed", T::Integer, "1", "random seed (--seed overrides)").from(kInferenceDoc),
                           P::opt("shared_prefix", T::Map, "",
                                  "shared system prompts ahead of each prompt (prefix caching)")
                               .nested("workload:inference.requests.shared_prefix")
                               .from(kInferenceDoc),
                       }});

LLMSIM_DECLARE_PARAMS(
    inf_shared_prefix,
    {kInferenceKind,
     "workload:inference.requests.shared_prefix",
     "",
     {
         P::req("tokens", T::Positive, "tokens of each shared prefix, added ahead of prompt_tokens")
             .from(kInferenceDoc),
         P::opt("groups", T::Positive, "1", "distinct prefixes; each request draws one uniformly").from(kInferenceDoc),
         P::opt("block_tokens", T::Positive, "16", "tokens per hashed block (a multiple of scheduler.block_size)")
             .from("vLLM prefix caching hashes per KV block"),
     }});

LLMSIM_DECLARE_PARAMS(inf_prompt_tokens, {kInferenceKind, "workload:inference.requests.prompt_tokens",
                                          "prompt_tokens as a distribution", token_dist()});
LLMSIM_DECLARE_PARAMS(inf_output_tokens, {kInferenceKind, "workload:inference.requests.output_tokens",
                                          "output_tokens as a distribution", token_dist()});

}  // namespace llmsim
