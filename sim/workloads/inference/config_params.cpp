// `kind: inference` parameters, declared once (sim/core/params.h); parse_inference reads
// them by name. Defaults cite where they come from (vLLM's engine arguments mostly).
#include "sim/core/params.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kDoc = "docs/inference.md";
const char* const kVllm = "vLLM EngineArgs";
const char* const kKind = "workload:inference";

}  // namespace

LLMSIM_DECLARE_PARAMS(inf_root, {kKind, "workload:inference", "LLM serving: model, parallelism, scheduler, requests", {
    P::req("kind", T::String, "inference").from(kDoc),
    P::opt("name", T::String, "", "label").from(kDoc),
    P::opt("description", T::String, "", "free text").from(kDoc),
    P::req("model", T::String, "workloads/models name, or a model YAML / config.json path").from(kDoc),
    P::opt("dtype", T::String, "bf16", "weights and GEMMs: fp64 fp32 tf32 bf16 fp16 fp8 int8 int4").from(kDoc),
    P::derive("kv_dtype", T::String, "dtype (fp16 for int4 weights)", "KV cache and attention").from(kDoc),
    P::opt("parallelism", T::Map, "", "tensor / pipeline parallelism, replicas").nested("workload:inference.parallelism"),
    P::opt("scheduler", T::Map, "", "continuous batching (vLLM-style)").nested("workload:inference.scheduler"),
    P::opt("router", T::Choice, "round-robin", "how requests pick a replica")
        .one_of({"round-robin", "least-loaded"}).from(kDoc),
    P::opt("disaggregation", T::Map, "", "prefill / decode split (Splitwise, DistServe)")
        .nested("workload:inference.disaggregation"),
    P::opt("trace", T::Map, "", "a recorded trace (copied as given; file made absolute); or `requests`").from(kDoc),
    P::opt("requests", T::Map, "", "synthetic requests (copied as given); or `trace`").from(kDoc),
}});

LLMSIM_DECLARE_PARAMS(inf_parallelism, {kKind, "workload:inference.parallelism", "", {
    P::opt("tp", T::Positive, "1", "tensor-parallel degree").from(kDoc),
    P::opt("pp", T::Positive, "1", "pipeline stages").from(kDoc),
    P::derive("replicas", T::Positive, "devices / (tp x pp)", "model replicas").from(kDoc),
    P::opt("algorithm", T::String, "auto", "collective algorithm for tp all-reduces").from(kDoc),
    P::opt("pipeline_engines", T::Positive, "1", "batches in flight per replica (vLLM virtual engines)").from(kVllm),
}});

LLMSIM_DECLARE_PARAMS(inf_scheduler, {kKind, "workload:inference.scheduler", "", {
    P::opt("max_batch", T::Positive, "256", "running sequences (max_num_seqs)").from(kVllm),
    P::opt("max_batched_tokens", T::Positive, "8192", "tokens per iteration (max_num_batched_tokens)").from(kVllm),
    P::opt("chunked_prefill", T::Boolean, "true", "split long prompts across iterations").from(kVllm),
    P::opt("block_size", T::Positive, "16", "KV block in tokens (PagedAttention)").from("Kwon et al. SOSP 2023"),
    P::opt("memory_utilization", T::Number, "0.9", "share of the KV tier the engine may use, (0, 1]")
        .from("vLLM gpu_memory_utilization"),
    P::opt("max_context", T::Integer, "0", "longest sequence (0 = the model's max_position_embeddings)").from(kDoc),
}});

LLMSIM_DECLARE_PARAMS(inf_disaggregation, {kKind, "workload:inference.disaggregation", "", {
    P::req("prefill_replicas", T::Positive, "replicas that only prefill").from(kDoc),
}});

}  // namespace llmsim
