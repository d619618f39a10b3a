// `kind: service` and `kind: prices` parameters (issue 15, `llmsim plan`), declared once
// (sim/core/params.h); load_service / load_prices read them by name.
#include "sim/core/params.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kPlanDoc = "docs/plan.md";

}  // namespace

LLMSIM_DECLARE_PARAMS(
    svc_root,
    {"service",
     "service",
     "a served model, its traffic and targets (llmsim plan)",
     {
         P::req("kind", T::String, "service").from(kPlanDoc),
         P::opt("name", T::String, "", "label").from(kPlanDoc),
         P::opt("description", T::String, "", "free text").from(kPlanDoc),
         P::req("model", T::String, "workloads/models name, or a model YAML / config.json path").from(kPlanDoc),
         P::opt("dtypes", T::List, "[bf16]", "weight dtypes the plan may use (each chip must run it)").from(kPlanDoc),
         P::req("traffic", T::Map, "the requests: `trace:` or `requests:` as in kind: inference")
             .nested("service.traffic")
             .from(kPlanDoc),
         P::req("targets", T::Map, "latency targets and attainment").nested("service.targets").from(kPlanDoc),
         P::opt("search", T::Map, "", "what the plan varies").nested("service.search").from(kPlanDoc),
     }});

LLMSIM_DECLARE_PARAMS(svc_traffic,
                      {"service",
                       "service.traffic",
                       "",
                       {
                           P::opt("trace", T::Map, "", "a recorded trace (workload:inference.trace)")
                               .nested("workload:inference.trace")
                               .from(kPlanDoc),
                           P::opt("requests", T::Map, "", "synthetic requests (workload:inference.requests)")
                               .nested("workload:inference.requests")
                               .from(kPlanDoc),
                       }});

LLMSIM_DECLARE_PARAMS(
    svc_targets,
    {"service",
     "service.targets",
     "at least one latency target",
     {
         P::opt("ttft_p99", T::Quantity, "", "99th percentile time to first token").unit(Dim::Time).from(kPlanDoc),
         P::opt("tpot_p99", T::Quantity, "", "99th percentile time per output token").unit(Dim::Time).from(kPlanDoc),
         P::opt("tpot_mean", T::Quantity, "", "mean time per output token").unit(Dim::Time).from(kPlanDoc),
         P::opt("e2e_p99", T::Quantity, "", "99th percentile request latency").unit(Dim::Time).from(kPlanDoc),
         P::opt("attainment", T::Number, "",
                "share of all requests that must meet ttft_p99 and tpot_p99 as per-request bounds (goodput), (0, 1]")
             .from("vLLM benchmark_serving --goodput"),
     }});

LLMSIM_DECLARE_PARAMS(
    svc_search,
    {"service",
     "service.search",
     "",
     {
         P::opt("tp", T::List, "powers of two", "tensor-parallel degrees tried").from(kPlanDoc),
         P::opt("pp", T::List, "powers of two", "pipeline depths tried").from(kPlanDoc),
         P::opt("max_batch", T::List, "[256]", "scheduler.max_batch values tried").from(kPlanDoc),
         P::opt("max_batched_tokens", T::List, "[8192]", "scheduler.max_batched_tokens values tried").from(kPlanDoc),
         P::opt("chunked_prefill", T::List, "[true]", "scheduler.chunked_prefill values tried").from(kPlanDoc),
         P::opt("prefill_share", T::List, "[0]", "shares of replicas that only prefill (0 = colocated), [0, 1)")
             .from("Splitwise, DistServe"),
         P::opt("bisection_steps", T::Positive, "6", "capacity bisection steps (log-space)").from(kPlanDoc),
         P::opt("min_load", T::Number, "0.0625", "lowest multiple of the traffic's rate bisected, (0, 1)")
             .from(kPlanDoc),
     }});

LLMSIM_DECLARE_PARAMS(prices_root,
                      {"prices",
                       "prices",
                       "cost per device-hour per chip (llmsim plan --prices)",
                       {
                           P::req("kind", T::String, "prices").from(kPlanDoc),
                           P::opt("currency", T::String, "USD", "currency of every figure").from(kPlanDoc),
                           P::opt("note", T::String, "", "free text").from(kPlanDoc),
                           P::req("chips", T::List, "one entry per chip").nested("prices.chips[]").from(kPlanDoc),
                       }});

LLMSIM_DECLARE_PARAMS(
    prices_chip,
    {"prices",
     "prices.chips[]",
     "a list price, or capex + power (TCO)",
     {
         P::req("chip", T::String, "catalog chip name").from(kPlanDoc),
         P::opt("per_device_hour", T::Number, "", "list price per device-hour (or capex + years)").from(kPlanDoc),
         P::opt("capex", T::Number, "", "TCO: purchase price per device, incl. its share of the server").from(kPlanDoc),
         P::opt("years", T::Number, "", "TCO: depreciation period").from(kPlanDoc),
         P::opt("pue", T::Number, "1.0", "TCO: data-centre power usage effectiveness, >= 1").from(kPlanDoc),
         P::opt("per_kwh", T::Number, "0", "TCO: energy price per kWh (at the chip's TDP x PUE)").from(kPlanDoc),
         P::req("date", T::String, "when the price was read").from(kPlanDoc),
         P::req("source", T::String, "where it comes from (a docs/sources.md key)").from(kPlanDoc),
     }});

LLMSIM_DECLARE_PARAMS(
    tsvc_root,
    {"service",
     "training-service",
     "a model to train, its token count and deadline or budget (llmsim plan)",
     {
         P::req("kind", T::String, "training-service").from(kPlanDoc),
         P::opt("name", T::String, "", "label").from(kPlanDoc),
         P::opt("description", T::String, "", "free text").from(kPlanDoc),
         P::req("model", T::String, "workloads/models name, or a model YAML / config.json path").from(kPlanDoc),
         P::opt("dtypes", T::List, "[bf16]", "training dtypes the plan may use: bf16, fp16, fp8").from(kPlanDoc),
         P::req("training", T::Map, "tokens, sequence length, global batch")
             .nested("training-service.training")
             .from(kPlanDoc),
         P::opt("deadline", T::Any, "", "longest time-to-train: a time (`2000 h`) or days (`90 days`)").from(kPlanDoc),
         P::opt("budget", T::Number, "", "most the run may cost, in the prices file's currency").from(kPlanDoc),
         P::opt("search", T::Map, "", "what the plan varies").nested("training-service.search").from(kPlanDoc),
     }});

LLMSIM_DECLARE_PARAMS(
    tsvc_training,
    {"service",
     "training-service.training",
     "",
     {
         P::req("tokens", T::Any, "tokens to train: a count, or with K / M / B / G / T (`15T`)").from(kPlanDoc),
         P::req("seq_len", T::Positive, "tokens per sequence").from(kPlanDoc),
         P::req("global_batch", T::Positive, "sequences per optimizer step (a hyper-parameter: not searched)")
             .from(kPlanDoc),
     }});

LLMSIM_DECLARE_PARAMS(
    tsvc_search,
    {"service",
     "training-service.search",
     "",
     {
         P::opt("tp", T::List, "powers of two", "tensor-parallel degrees tried").from(kPlanDoc),
         P::opt("pp", T::List, "powers of two", "pipeline depths tried").from(kPlanDoc),
         P::opt("cp", T::List, "[1]", "context-parallel degrees tried").from(kPlanDoc),
         P::opt("ep", T::List, "[1]", "expert-parallel degrees tried (MoE models)").from(kPlanDoc),
         P::opt("micro_batch", T::List, "[1]", "micro-batch sizes tried").from(kPlanDoc),
         P::opt("schedule", T::List, "[1f1b]", "pipeline schedules tried: gpipe, 1f1b, interleaved-1f1b")
             .from(kPlanDoc),
         P::opt("virtual_stages", T::Positive, "2", "model chunks per device for interleaved-1f1b").from(kPlanDoc),
         P::opt("zero", T::List, "[1]", "ZeRO stages tried (0-3)").from(kPlanDoc),
         P::opt("recompute", T::List, "[none, selective, full]", "activation recomputation policies tried")
             .from(kPlanDoc),
         P::opt("devices", T::List, "the whole system", "device counts tried (systems with a top-level count:)")
             .from(kPlanDoc),
         P::opt("global_batch", T::List, "[training.global_batch]",
                "global batch sizes (sequences per optimizer step) tried; tokens to train stay fixed")
             .from(kPlanDoc),
         P::opt("steps", T::Positive, "1", "optimizer steps simulated per configuration").from(kPlanDoc),
     }});

}  // namespace llmsim
