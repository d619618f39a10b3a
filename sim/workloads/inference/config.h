// The `kind: inference` document: model, dtypes, parallelism, scheduler, router and the
// request source. Parsed once (strict, positioned errors); defaults live here only.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/llm/model.h"
#include "sim/software/stack.h"
#include "sim/spec/chip.h"
#include "sim/topo/topology.h"
#include "sim/traces/request.h"
#include "sim/workloads/inference/kv_offload.h"
#include "sim/workloads/inference/speculative.h"

namespace llmsim {

// vLLM's default gpu_memory_utilization: the share of the KV tier the engine may use for
// weights + activations + KV cache (vLLM EngineArgs, 0.9).
constexpr double kDefaultMemoryUtilization = 0.9;
// vLLM's default KV block (PagedAttention, Kwon et al. SOSP 2023): 16 tokens.
constexpr std::int64_t kDefaultBlockSize = 16;

struct SchedulerConfig {
  std::int64_t max_batch = 256;            // vLLM max_num_seqs default
  std::int64_t max_batched_tokens = 8192;  // vLLM max_num_batched_tokens (chunked prefill)
  bool chunked_prefill = true;
  std::int64_t block_size = kDefaultBlockSize;
  double memory_utilization = kDefaultMemoryUtilization;
  std::int64_t max_context = 0;            // 0 = the model's max_position_embeddings
  bool prefix_caching = false;             // vLLM enable_prefix_caching
  double watermark = 0.01;                 // share of KV blocks admission leaves free (vLLM)
  std::int64_t prefix_block_tokens = 0;    // tokens per hashed prompt block (from the request keys)
  KvOffloadConfig offload;                 // tiers for evicted prefix-cache entries (kv_offload.h)
  // vLLM preemption_mode: recompute (false) or swap (true): a preempted sequence's KV
  // blocks go to host memory over the device's PCIe port and come back when it resumes.
  bool swap_preemption = false;
  Bytes swap_space = 0;                    // bytes of host swap space per device (vLLM swap_space)
  BytesPerSecond swap_link_bandwidth = 0;  // the chip's PCIe port, bytes/s per direction
};

struct InferenceConfig {
  ModelSpec model;
  std::string dtype = "bf16";       // weights and GEMMs
  std::string kv_dtype;             // KV cache and attention ("" = dtype)
  std::string act_dtype = "auto";   // activations / vector ops: the chip's 16-bit type
  std::int64_t tp = 1, pp = 1, replicas = 1;
  // 2-D tensor parallelism (parallelism.tp_rows x tp_cols = tp; 0 = the 1-D layout): rank
  // r = row x tp_cols + col; the tp_cols chips of a row shard the hidden dimension, the
  // tp_rows chips of a column shard heads and FFN (docs/models.md "2-D tensor parallelism").
  std::int64_t tp_rows = 0, tp_cols = 0;
  // parallelism.decode_attention: batch = decode attention sharded over the sequences on all
  // tp chips of a 2-D layout, all heads on each (Pope et al.'s multi-query layout; two
  // all-to-alls a layer over the columns, tp_layout.h); false = over the heads (default).
  bool decode_batch_sharded = false;
  // parallelism.weights: gathered = Pope et al.'s fully weight-gathered layout: each chip of
  // the tp group stores 1/tp of the weights, all-gathers a layer's before running it, and
  // runs whole layers (all heads, the whole FFN) on a tp-th of the tokens; no activation
  // collectives (docs/models.md "Weight-gathered layout").
  bool weights_gathered = false;
  bool tp2d() const { return tp_rows > 0; }
  // Ways heads and FFN are split (none when the weights are gathered).
  std::int64_t tp_heads() const { return weights_gathered ? 1 : tp2d() ? tp_rows : tp; }
  // Ways a step's tokens (whole sequences) are split between the tp chips: gathered layouts only.
  std::int64_t tp_tokens() const { return weights_gathered ? tp : 1; }
  std::int64_t tp_hidden() const { return tp2d() ? tp_cols : 1; }  // ways hidden (and tokens) are split
  // K and V elements one rank keeps per token and layer, averaged over the ranks: its KV
  // heads (a replica when tp_heads exceeds the KV heads); in 2-D a sequence's KV lives on
  // the one chip of each row that attends for it, so a row's chips share the sequences
  // (spread evenly, as the attention split of the lowering assumes).
  // Batch-sharded decode: a sequence's whole KV (every head) lives on one chip of the
  // stage, so a chip keeps all KV heads of a tp-th of the sequences: no replicas. So does
  // every chip of a weight-gathered layout.
  double kv_elements_per_layer_per_rank() const {
    if (decode_batch_sharded || weights_gathered) return model.kv_elements_per_layer(1) / static_cast<double>(tp);
    return model.kv_elements_per_layer(tp_heads()) / static_cast<double>(tp_hidden());
  }
  // Batches in flight per replica (vLLM virtual engines, each with 1/engines of the KV
  // pool): 1 (default) = stages idle while the others work, pp = a full pipeline. Opt-in:
  // more engines mean smaller batches and more iterations to simulate.
  std::int64_t engines = 1;
  std::string collective_algorithm = "auto";
  SchedulerConfig sched;
  SoftwareStack software;               // host, launch and library behaviour (docs/software.md)
  std::string router = "round-robin";   // round-robin | least-loaded | prefix-affinity
  double router_load_cap = 2.0;         // prefix-affinity's load cap (config_params.cpp)
  std::int64_t prefill_replicas = 0;    // disaggregated prefill pool size (0 = colocated)
  bool use_trace = false;
  TraceOptions trace;
  SyntheticSpec synthetic;
  // Latency SLOs (vLLM benchmark_serving's --goodput); < 0 = no bound. `slo` = given at all.
  bool slo = false;
  double slo_ttft = -1, slo_tpot = -1;
  SpeculativeConfig spec;               // speculative decoding (speculative.h); off by default
  double slo_stop_attainment = -1;      // slo.stop_below_attainment (< 0 = run to the end)
  std::uint64_t seed = 1;               // workload seed (requests.seed); --seed overrides
  YAML::Node resolved;                  // the document as loaded (config.resolved.yaml)
};

// Parses and validates. With a topology that has devices, also checks the parallelism
// against the device count and that the chip runs the dtypes.
InferenceConfig parse_inference(const Doc& doc, const Topology& topo);

// Layers of pipeline stage `s` (as even as possible; earlier stages take the remainder).
std::int64_t stage_layers(const InferenceConfig& c, std::int64_t s);
// Index of stage `s`'s first layer.
std::int64_t stage_first_layer(const InferenceConfig& c, std::int64_t s);

}  // namespace llmsim
