// The software stack file's parameters (topologies/software/*.yaml), declared once
// (sim/core/params.h): load_software reads them by name, `llmsim describe software` prints
// them, config.resolved.yaml records them under the workload's `software:`.
#include "sim/core/params.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kStackDoc = "docs/software.md";

}  // namespace

// clang-format off
LLMSIM_DECLARE_PARAMS(software_root, {"software", "software", "A serving or training software stack (topologies/software/*.yaml)", {
    P::req("name", T::String, "stack id, equal to the file name").from(kStackDoc),
    P::derive("display", T::String, "name", "label for reports").from(kStackDoc),
    P::opt("description", T::String, "", "free text").from(kStackDoc),
    P::opt("kernels", T::Map, "", "how kernels reach the device").nested("software.kernels").from(kStackDoc),
    P::opt("host", T::Map, "", "per-iteration host (CPU) work of the serving engine").nested("software.host").from(kStackDoc),
    P::opt("attention", T::Map, "", "the attention kernel the stack runs").nested("software.attention").from(kStackDoc),
    P::opt("collective", T::Map, "", "the collective library").nested("software.collective").from(kStackDoc),
    P::opt("kv_cache", T::Map, "", "how the serving engine sizes its KV pool").nested("software.kv_cache").from(kStackDoc),
    P::opt("tensor_parallel", T::Map, "", "how the stack runs tensor-parallel collectives (training)")
        .nested("software.tensor_parallel").from(kStackDoc),
    P::opt("device_mesh", T::Map, "", "how a training step's parallel ranks are laid on the chips")
        .nested("software.device_mesh").from("docs/training.md"),
    P::req("dtypes", T::List, "dtypes the stack runs natively (a workload's dtype must be one; may be sourced under "
                               "sources.dtypes)").from(kStackDoc),
    P::req("sources", T::Map, "figure -> \"[SOURCE-KEY] ...\" or \"estimate: reasoning\", one per figure given "
                              "(copied as given)").from(kStackDoc),
}});

LLMSIM_DECLARE_PARAMS(software_kernels, {"software", "software.kernels", "", {
    P::opt("launch_overhead", T::Quantity, "0 s",
           "host time to launch one kernel eagerly; the host runs ahead of the device, so an eager "
           "iteration lasts at least kernels x this").unit(Dim::Time).from(kStackDoc),
    P::opt("graphs", T::Choice, "none", "iterations replayed as captured graphs (CUDA / HIP / HPU graphs, "
                                        "XLA executables, Metal traces): none | decode | all")
        .one_of({"none", "decode", "all"}).from(kStackDoc),
    P::opt("graph_launch", T::Quantity, "0 s", "host time to launch one captured graph (replaces the "
                                               "per-kernel launches of a captured iteration)").unit(Dim::Time).from(kStackDoc),
    P::opt("graph_max_batch", T::Integer, "0", "largest decode batch replayed as a graph: graphs are captured per "
                                               "batch size up to it, a larger batch launches its kernels eagerly "
                                               "(0: no limit)").from(kStackDoc),
    P::opt("dispatch", T::Choice, "ahead", "when the device starts an iteration's ops: ahead (as the host "
                                           "launches them: CUDA / HIP streams, command queues; launches run "
                                           "beside the device) | lazy (once the host has launched the whole "
                                           "iteration: PyTorch lazy mode on Gaudi records the step into a graph "
                                           "that runs at mark_step; launches precede the device ops)")
        .one_of({"ahead", "lazy"}).from(kStackDoc),
}});
// clang-format on

LLMSIM_DECLARE_PARAMS(software_host, {"software",
                                      "software.host",
                                      "",
                                      {
                                          P::opt("base", T::Quantity, "0 s",
                                                 "host time per iteration independent of the batch (schedule, "
                                                 "prepare inputs, launch sampling)")
                                              .unit(Dim::Time)
                                              .from(kStackDoc),
                                          P::opt("per_sequence", T::Quantity, "0 s",
                                                 "host time per sequence in the iteration (input "
                                                 "preparation, sampling, detokenisation)")
                                              .unit(Dim::Time)
                                              .from(kStackDoc),
                                          P::opt("overlap", T::Boolean, "false",
                                                 "the host prepares iteration i+1 while the device runs i "
                                                 "(SGLang's overlap scheduler): host time hides behind device time")
                                              .from(kStackDoc),
                                      }});

LLMSIM_DECLARE_PARAMS(software_attention,
                      {"software",
                       "software.attention",
                       "",
                       {
                           P::opt("kernel", T::String, "",
                                  "attention kernel generation (flash-attention-2, flash-attention-3, ...)")
                               .from(kStackDoc),
                           P::opt("softmax", T::Choice, "serialised",
                                  "softmax beside the matrix phases: serialised (FA2) | overlapped "
                                  "(FA3 ping-pong)")
                               .one_of({"serialised", "overlapped"})
                               .from(kStackDoc),
                           P::opt("softmax_exposed", T::Number, "0",
                                  "overlapped softmax: share of the shorter phase (softmax or matrix) the "
                                  "overlap leaves exposed, 0 .. 1 (0 = hidden wholly)")
                               .from(kStackDoc),
                           P::opt("mma", T::Choice, "native",
                                  "matrix instructions: native (the chip's full-rate ones) | warp (the previous "
                                  "generation's warp-level MMA, FA2's mma.sync on Hopper: chip "
                                  "compute.warp_mma_fraction)")
                               .one_of({"native", "warp"})
                               .from(kStackDoc),
                           P::opt("kv_cache", T::Choice, "contiguous",
                                  "serving KV cache layout: contiguous (a region per sequence) | paged "
                                  "(blocks through a block table: decode attention reads K and V at the KV "
                                  "tier's paged_efficiency)")
                               .one_of({"contiguous", "paged"})
                               .from(kStackDoc),
                       }});

LLMSIM_DECLARE_PARAMS(
    software_collective,
    {"software",
     "software.collective",
     "",
     {
         P::opt("library", T::String, "", "nccl | rccl | hccl | xla | ccl | ...").from(kStackDoc),
         P::opt("protocols", T::List, "", "protocols the library picks from by message size (ll, ll128, simple)")
             .from(kStackDoc),
         P::opt("channels", T::Integer, "0", "channels (one CTA / SM each) a collective uses; 0 = not stated")
             .from(kStackDoc),
         P::opt("custom_allreduce", T::Map, "",
                "the stack's own all-reduce kernel for small messages inside one NVLink / xGMI domain (vLLM "
                "custom_all_reduce, TensorRT-LLM custom all-reduce), run instead of the library there")
             .nested("software.collective.custom_allreduce")
             .from("docs/models.md"),
     }});

// clang-format off
LLMSIM_DECLARE_PARAMS(software_custom_allreduce, {"software", "software.collective.custom_allreduce", "", {
    P::opt("max_bytes", T::Quantity, "0 B", "largest all-reduce the kernel takes; larger ones run the library")
        .unit(Dim::Size).from("docs/models.md"),
    P::opt("max_ranks", T::Integer, "8", "most peers it runs over (all of them pairwise reachable over NVLink-class "
                                          "links)").from("docs/models.md"),
    P::opt("base_latency", T::Quantity, "0 s", "time per all-reduce before data moves (the kernel's start inside "
                                                "a graph, its first flag barrier)").unit(Dim::Time).from("docs/models.md"),
    P::opt("step_latency", T::Quantity, "0 s", "time per step of the one-shot / two-shot plan beyond the route's own "
                                                "latency (a flag barrier across the peers)").unit(Dim::Time)
        .from("docs/models.md"),
}});
// clang-format on

LLMSIM_DECLARE_PARAMS(
    software_kv_cache,
    {"software",
     "software.kv_cache",
     "",
     {
         P::opt("budget", T::Choice, "total",
                "what the workload's scheduler.memory_utilization is a share of: total (vLLM gpu_memory_utilization: "
                "weights, activations and KV pool together take that share of the KV tier) | free (TensorRT-LLM "
                "free_gpu_memory_fraction: the KV pool takes that share of what weights and activations leave)")
             .one_of({"total", "free"})
             .from(kStackDoc),
     }});

LLMSIM_DECLARE_PARAMS(software_tensor_parallel, {"software", "software.tensor_parallel", "", {
    P::opt("comm_overlap", T::Boolean, "false",
           "TP collectives decomposed with the GEMMs that produce / consume them (XLA collective matmul, Megatron / "
           "NeMo tp_comm_overlap): each runs beside its GEMM's chunks; training only")
        .from("docs/training.md"),
    P::opt("comm_overlap_directions", T::Integer, "1",
           "ring directions a decomposed TP collective uses: 1 (every shard one way: tp steps of one shard's rows) "
           "| 2 (bidirectional: half each way, each step multiplies the two shards that arrived: tp / 2 steps of "
           "twice the rows)")
        .from("docs/training.md"),
}});

// clang-format off
LLMSIM_DECLARE_PARAMS(software_device_mesh, {"software", "software.device_mesh", "", {
    P::opt("placement", T::Choice, "rank_order",
           "rank_order (Megatron-LM: device = t + tp x (c + cp x (d + dp x p))) | torus_axes (XLA's device mesh on a "
           "torus: TP, then CP, DP and PP each on whole torus axes whose sizes multiply to it, fewest axes first; rank "
           "order when a size is no such product); training only")
        .one_of({"rank_order", "torus_axes"}).from("docs/training.md"),
}});
// clang-format on

}  // namespace llmsim
