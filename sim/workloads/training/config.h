// The `kind: training` document (CONTRACT.md): model, precision, sequence and batch sizes,
// steps, and the parallelism (tensor, pipeline with its schedule, data with ZeRO stage,
// activation recomputation). Parsed once (strict, positioned errors); defaults live in
// config_params.cpp only.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/llm/model.h"
#include "sim/software/stack.h"
#include "sim/topo/topology.h"
#include "sim/workloads/training/data.h"

namespace llmsim {

struct TrainingParallelism {
  std::int64_t tp = 1, pp = 1, dp = 1;
  std::int64_t cp = 1;                // context parallelism: ring attention over cp sequence shards
  std::int64_t ep = 1;                // expert parallelism: MoE experts sharded over ep of the dp ranks
  bool sequence_parallel = false;     // Megatron-LM sequence parallelism (Korthikanti et al. 2022)
  std::string schedule = "1f1b";      // gpipe | 1f1b | interleaved-1f1b
  std::int64_t virtual_stages = 1;    // model chunks per device (interleaved-1f1b)
  // Transformer layers of each virtual stage in model order (chunk c of stage s is entry
  // c x pp + s); empty: as even as possible (training_chunk_layers).
  std::vector<std::int64_t> stage_layers;
  // Stage that runs the LM / MLM head: "last", or "first" beside a tied input embedding
  // (Graphcore's BERT runs its classifier on IPU 0, which holds the shared word embedding).
  std::string head_stage = "last";
  int zero = 0;                       // 0 none, 1 optimizer, 2 + gradients, 3 + parameters (FSDP)
  std::string recompute = "none";     // none | selective | full
  // accumulate | every-micro-batch (zero 3: each backward reduce-scatters, PyTorch FSDP)
  std::string gradient_reduction = "accumulate";
  std::string algorithm = "auto";     // collective algorithm for every group
};

struct TrainingConfig {
  ModelSpec model;
  std::string dtype = "bf16";         // GEMMs and stored weights / gradients (mixed precision)
  std::int64_t seq_len = 0;
  std::int64_t global_batch = 0;      // sequences per step
  std::int64_t micro_batch = 1;       // sequences per micro-batch per data-parallel replica
  std::int64_t steps = 1;
  // Encoder (BERT) masked-LM: positions per sequence that go through the vocabulary
  // projection (gathered before the head, as NVIDIA's and Graphcore's BERT do); 0 for decoders.
  std::int64_t masked_positions = 0;
  // Cerebras weight streaming: weights stream from MemoryX layer by layer, gradients back,
  // MemoryX runs the optimizer; the wafer holds activations (weight_streaming.h).
  bool weight_streaming = false;
  TrainingParallelism par;
  double memory_reserve = 0.1;        // share of device memory kept free (allocator, workspace)
  std::uint64_t seed = 1;
  // Simulate the compute of one data-parallel replica and run every data-parallel
  // collective on its full group (docs/training.md "Folding"); false: every replica.
  bool fold_data_parallel = true;
  TrainingData data;                  // tokenized documents packed into sequences (data.h)
  // `software:` (topologies/software/*.yaml): the framework that ran the step. Its attention
  // kernel generation, TP overlap and collective library apply; name "" = none given (FA2-style
  // serialised softmax, TP collectives after their GEMMs, the system's default library).
  SoftwareStack software;
  // The stack's device mesh (mesh_placement.h): device of each rank in RankMap order, empty
  // for Megatron's rank order; the note says which torus axes each parallel axis took.
  std::vector<int> placement;
  std::string placement_note;
  YAML::Node resolved;                // the document as loaded (config.resolved.yaml)

  // Micro-batches each pipeline runs per step: global_batch / (micro_batch x dp).
  std::int64_t micro_batches() const { return global_batch / (micro_batch * par.dp); }
  std::int64_t devices() const { return par.tp * par.cp * par.pp * par.dp; }
  // Tokens one device's passes cover per micro-batch: the sequence is split over cp ranks.
  std::int64_t tokens_per_rank() const { return micro_batch * seq_len / par.cp; }
  // KV heads one TP rank holds: kv_heads / tp, or 1 when tp is a multiple of kv_heads above
  // it (each KV head replicated on tp / kv_heads ranks, as vLLM does [VLLM-SRC] and PaLM's
  // multi-query layers [PALM]).
  std::int64_t kv_heads_per_rank() const { return model.kv_heads >= par.tp ? model.kv_heads / par.tp : 1; }
  double tokens_per_step() const { return static_cast<double>(global_batch) * static_cast<double>(seq_len); }
};

// Parses and validates (InputError, exit 2, with the arithmetic). With a topology that has
// devices, checks tp x pp x dp against its device count.
TrainingConfig parse_training(const Doc& doc, const Topology& topo);

// Transformer layers held by pipeline stage `s`: the sum of its virtual stages' given
// `stage_layers`, else as even as possible (the remainder goes to the middle stages, which
// do not also hold the embedding or the LM head).
std::int64_t training_stage_layers(const TrainingConfig& c, std::int64_t s);
// Transformer layers of virtual stage `vstage` (= chunk x pp + stage; the stage when v = 1):
// the given `stage_layers` entry, else layers / (pp x v) (v > 1 needs an even split then).
std::int64_t training_chunk_layers(const TrainingConfig& c, std::int64_t vstage);
// Index of the pipeline stage that runs the LM / MLM head (0 or pp - 1).
std::int64_t training_head_stage(const TrainingConfig& c);

// Megatron-LM's rank order: TP innermost (inside a node), then CP, then DP, then PP; EP
// groups are ep consecutive DP ranks (Megatron-Core carves expert parallelism out of data
// parallelism). Device index of the rank with these coordinates, and each kind of group.
struct RankMap {
  std::int64_t tp = 1, cp = 1, dp = 1, pp = 1, ep = 1;
  std::vector<int> place;  // the stack's device mesh (TrainingConfig::placement); empty = rank order
  int device(std::int64_t t, std::int64_t c, std::int64_t d, std::int64_t p) const {
    const auto rank = t + tp * (c + cp * (d + dp * p));
    return place.empty() ? static_cast<int>(rank) : place[static_cast<std::size_t>(rank)];
  }
  std::vector<int> tp_group(std::int64_t c, std::int64_t d, std::int64_t p) const;
  std::vector<int> cp_group(std::int64_t t, std::int64_t d, std::int64_t p) const;
  // Gradient reduction of the dense parameters: every DP and CP rank of (t, p).
  std::vector<int> dp_group(std::int64_t t, std::int64_t p) const;
  // The ep DP ranks (of one CP rank c) whose experts together hold all of a layer's
  // experts (all-to-all of that CP rank's tokens).
  std::vector<int> ep_group(std::int64_t t, std::int64_t c, std::int64_t d, std::int64_t p) const;
  // Gradient reduction of the experts: the dp / ep x cp ranks holding the same experts as
  // d (every CP rank saw part of the same sequences, as for the dense parameters).
  std::vector<int> expert_dp_group(std::int64_t t, std::int64_t d, std::int64_t p) const;
  std::vector<int> pp_group(std::int64_t t, std::int64_t c, std::int64_t d) const;
};
RankMap rank_map(const TrainingConfig& c);

}  // namespace llmsim
