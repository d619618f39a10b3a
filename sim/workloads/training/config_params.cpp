// `kind: training` parameters, declared once (sim/core/params.h); parse_training reads them
// by name. Defaults follow Megatron-LM's arguments where it has one.
#include "sim/core/params.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kTrainingDoc = "docs/training.md";
const char* const kMegatron = "Megatron-LM arguments";
const char* const kTrainingKind = "workload:training";

}  // namespace

LLMSIM_DECLARE_PARAMS(
    train_root,
    {kTrainingKind,
     "workload:training",
     "LLM pre-training steps: model, batch, parallelism",
     {
         P::req("kind", T::String, "training").from(kTrainingDoc),
         P::opt("name", T::String, "", "label").from(kTrainingDoc),
         P::opt("description", T::String, "", "free text").from(kTrainingDoc),
         P::req("model", T::String, "workloads/models name, or a model YAML / config.json path").from(kTrainingDoc),
         P::opt("dtype", T::Choice, "bf16",
                "mixed-precision compute and stored weights / gradients (fp32 master weights and Adam states)")
             .one_of({"bf16", "fp16", "fp8"})
             .from(kTrainingDoc),
         P::req("seq_len", T::Positive, "tokens per sequence").from(kTrainingDoc),
         P::req("global_batch", T::Positive, "sequences per optimizer step").from(kTrainingDoc),
         P::opt("micro_batch", T::Positive, "1", "sequences per micro-batch on one data-parallel replica")
             .from(kMegatron),
         P::opt("steps", T::Positive, "1", "optimizer steps simulated").from(kTrainingDoc),
         P::derive("masked_positions", T::Positive, "ceil(0.15 x seq_len) for an encoder",
                   "encoder (BERT) masked-LM positions per sequence through the vocabulary projection (NVIDIA's "
                   "max_predictions_per_seq: 20 at seq 128, 80 at 512)")
             .from("Devlin et al. 2019 [BERT] (15 % masked); [NV-BERT]"),
         P::opt("weight_streaming", T::Boolean, "false",
                "Cerebras weight streaming: each layer's weights stream in from MemoryX per pass over the system I/O, "
                "gradients back, optimizer in MemoryX (needs tp = pp = cp = 1)")
             .from("[CB-gloss-MemoryX] [CB-gloss-WSC]; docs/training.md"),
         P::opt("software", T::Any, "",
                "software stack the step ran under: a name under topologies/software/, a path or a "
                "stack map; its attention kernel, TP overlap and collective library apply "
                "(default: none of them; the system's default collective library)")
             .from("docs/training.md"),
         P::opt("parallelism", T::Map, "", "tensor / context / pipeline / data / expert parallelism")
             .nested("workload:training.parallelism")
             .from(kTrainingDoc),
         P::opt("data", T::Map, "",
                "tokenized documents packed into the sequences (default: every sequence one full document)")
             .nested("workload:training.data")
             .from(kTrainingDoc),
         P::opt(
             "memory_reserve", T::Number, "0.1",
             "share of device memory kept free for allocator fragmentation and workspaces (an assumption, not a fit)")
             .from(kTrainingDoc),
         P::opt("seed", T::Integer, "1", "random seed (--seed overrides)").from(kTrainingDoc),
         P::opt("checkpoint", T::Map, "", "checkpointing: interval, write bandwidth, restart time (docs/faults.md)")
             .nested("workload:training.checkpoint")
             .from("docs/faults.md"),
         P::opt("goodput", T::Map, "", "goodput over days under failures (docs/faults.md)")
             .nested("workload:training.goodput")
             .from("docs/faults.md"),
         P::opt("fold_data_parallel", T::Boolean, "true",
                "simulate one data-parallel replica's compute, every data-parallel collective in full")
             .from(kTrainingDoc),
     }});

// clang-format off
LLMSIM_DECLARE_PARAMS(train_parallelism, {kTrainingKind, "workload:training.parallelism", "", {
    P::opt("tp", T::Positive, "1", "tensor-parallel degree (innermost: inside a node)").from(kMegatron),
    P::opt("pp", T::Positive, "1", "pipeline stages").from(kMegatron),
    P::derive("dp", T::Positive, "devices / (tp x cp x pp)", "data-parallel replicas").from(kMegatron),
    P::opt("sequence_parallel", T::Boolean, "false", "shard norms / dropout activations over tp (Korthikanti et al. 2022)")
        .from(kMegatron),
    P::opt("schedule", T::Choice, "1f1b", "pipeline schedule").one_of({"gpipe", "1f1b", "interleaved-1f1b"}).from(kTrainingDoc),
    P::opt("virtual_stages", T::Positive, "1", "model chunks per device (interleaved-1f1b)").from(kMegatron),
    P::opt("stage_layers", T::List, "", "transformer layers of each virtual stage in model order (pp x virtual_stages "
           "counts; chunk c of stage s is entry c x pp + s), summing to the model's layers, each >= 1 except the first "
           "and the last (0: the embedding / the LM head and loss alone); default as even as possible")
        .from("[LLAMA3-PP]; docs/training.md"),
    P::opt("head_stage", T::Choice, "last", "pipeline stage running the LM / MLM head: last, or first beside the tied "
           "word embedding it shares (one model chunk per device)")
        .one_of({"last", "first"}).from("Graphcore BERT: classifier on IPU 0 [GC-BERT]"),
    P::opt("zero", T::Integer, "0", "ZeRO stage: 0, 1 (optimizer states), 2 (+ gradients), 3 (+ parameters; FSDP)")
        .from("Rajbhandari et al. SC'20"),
    P::opt("cp", T::Positive, "1", "context-parallel degree: ring attention over cp sequence shards (between TP and DP in the rank order)")
        .from(kMegatron),
    P::opt("ep", T::Positive, "1", "expert-parallel degree (MoE): experts sharded over ep of the dp ranks").from(kMegatron),
    P::opt("recompute", T::Choice, "none", "activation recomputation").one_of({"none", "selective", "full"}).from(kMegatron),
    P::opt("gradient_reduction", T::Choice, "accumulate",
           "accumulate: gradients accumulate over the micro-batches, reduced after the last backward (Megatron-LM DDP); "
           "every-micro-batch: each backward reduce-scatters its gradients (zero 3; PyTorch FSDP FULL_SHARD)")
        .one_of({"accumulate", "every-micro-batch"}).from("[PT-FSDP]"),
    P::opt("algorithm", T::String, "auto", "collective algorithm for every group").from(kTrainingDoc),
}});

LLMSIM_DECLARE_PARAMS(train_data, {kTrainingKind, "workload:training.data", "", {
    P::opt("trace", T::Map, "", "document token counts in dataset order; or `synthetic`").nested("workload:training.data.trace").from(kTrainingDoc),
    P::opt("synthetic", T::Map, "", "seeded lognormal document lengths; or `trace`").nested("workload:training.data.synthetic").from(kTrainingDoc),
    P::opt("packing", T::Choice, "concat", "concat: documents back to back, split at seq_len (Megatron-LM GPTDataset); pad: one per "
           "sequence; best-fit: best-fit decreasing over a window of documents, only those longer than seq_len split")
        .one_of({"concat", "pad", "best-fit"}).from("Krell et al. 2021; [BFD-PACK]"),
    P::opt("window", T::Positive, "1000", "best-fit: documents packed together (the window sorted and placed at once)").from("[BFD-PACK]"),
    P::opt("attention", T::Choice, "document-masked",
           "document-masked: each document attends to itself only (block-diagonal causal); causal: over the whole sequence")
        .one_of({"document-masked", "causal"}).from(kTrainingDoc),
}});
// clang-format on

LLMSIM_DECLARE_PARAMS(
    train_data_trace,
    {kTrainingKind,
     "workload:training.data.trace",
     "",
     {
         P::req("file", T::String, "lengths trace, relative to the workload or the project root").from(kTrainingDoc),
         P::opt("format", T::Choice, "jsonl",
                "jsonl: {\"tokens\": N}, {\"input_ids\": [...]} or N per line; csv: a `tokens` column")
             .one_of({"jsonl", "csv"})
             .from(kTrainingDoc),
     }});

LLMSIM_DECLARE_PARAMS(
    train_data_synthetic,
    {kTrainingKind,
     "workload:training.data.synthetic",
     "",
     {
         P::req("median_tokens", T::Positive, "median document length (lognormal)").from(kTrainingDoc),
         P::opt("sigma", T::Number, "1.0",
                "lognormal shape (standard deviation of ln length); an assumption, not a fit")
             .from(kTrainingDoc),
         P::opt("max_tokens", T::Positive, "131072", "longer draws are clamped to this").from(kTrainingDoc),
     }});

}  // namespace llmsim
