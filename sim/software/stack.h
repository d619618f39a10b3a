// A software stack (topologies/software/*.yaml, docs/software.md): how kernels
// reach the device (eager launches or captured graphs), the serving engine's host work
// per iteration, the attention kernel, the collective library and the native dtypes.
// Training workloads take its attention kernel generation, TP overlap and collective
// library (docs/training.md "Software stacks"). Loaded once per run; the serving iteration
// (sim/workloads/inference/iteration_graph.h) charges its host and launch times through the pure functions below.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/core/yaml_doc.h"

namespace llmsim {

struct SoftwareStack {
  std::string name;                 // file stem, e.g. vllm-rocm ("" = none: no host costs)
  std::string display;
  Seconds launch_overhead = 0;      // host time per eagerly launched kernel
  std::string graphs = "none";      // none | decode | all: iterations replayed as graphs
  Seconds graph_launch = 0;         // host time per captured-graph launch
  std::int64_t graph_max_batch = 0;  // largest decode batch with a captured graph (0: any)
  // ahead: kernels start as the host launches them (CUDA / HIP streams), so launches run
  // beside the device; lazy: the device starts an iteration only once the host has
  // launched all of it (PyTorch lazy mode on Gaudi records the step's ops into a graph
  // that runs at mark_step), so the launch time precedes the device ops.
  std::string dispatch = "ahead";
  Seconds host_base = 0;            // per iteration
  Seconds host_per_sequence = 0;    // per sequence in the iteration
  bool host_overlap = false;        // host work of the next iteration hides behind the device
  // What the workload's scheduler.memory_utilization is a share of when the KV pool is
  // sized: total (vLLM gpu_memory_utilization, SGLang mem_fraction_static: weights,
  // activations and KV together take that share of the tier) or free (TensorRT-LLM
  // free_gpu_memory_fraction: the KV pool takes that share of what weights and
  // activations leave).
  std::string kv_budget = "total";
  std::string attention_kernel;
  std::string attention_softmax = "serialised";
  // Under an overlapped softmax, the share of the shorter phase left exposed, [0, 1].
  double attention_softmax_exposed = 0;
  // The attention kernel's matrix instructions: native (the chip's full-rate ones) or warp
  // (the previous generation's warp-level MMA, FlashAttention-2's mma.sync on Hopper: the
  // matrix phases run at the chip's compute.warp_mma_fraction).
  std::string attention_mma = "native";
  // How the serving engine lays out the KV cache its attention kernels read: paged (blocks
  // found through a block table: decode attention reads them at the KV tier's
  // paged_efficiency) or contiguous (one preallocated region per sequence).
  std::string attention_kv_cache = "contiguous";
  std::string collective_library;
  std::vector<std::string> protocols;
  std::int64_t channels = 0;
  // The stack's own all-reduce kernel for messages up to custom_allreduce_max_bytes among
  // at most custom_allreduce_max_ranks peers of one NVLink / xGMI domain (vLLM's
  // custom_all_reduce, TensorRT-LLM's custom all-reduce): it replaces the library there,
  // one-shot or two-shot (sim/net/algorithms/one_shot.cpp, direct.cpp). 0 bytes: none.
  Bytes custom_allreduce_max_bytes = 0;
  std::int64_t custom_allreduce_max_ranks = 8;
  Seconds custom_allreduce_base_latency = 0;  // per all-reduce (launch inside the graph, first barrier)
  Seconds custom_allreduce_step_latency = 0;  // per step: a flag barrier over the domain's links
  // Tensor-parallel collectives decomposed with the GEMMs that produce / consume them
  // (XLA collective matmul [XLA-CM], Megatron / NeMo `tp_comm_overlap` [NEMO-TPOVERLAP]):
  // training runs each TP collective beside its GEMM's chunks, not after it.
  bool tp_comm_overlap = false;
  // Shards each decomposed step works on: 1 sends every shard one way round the TP ring
  // (tp steps of one shard's rows), 2 sends half each way on bidirectional links, so a
  // step multiplies the two shards that just arrived (XLA's bidirectional collective matmul
  // [XLA-CM]): half as many steps of twice the rows, which keeps a step's GEMM from
  // re-reading its weights for too few rows.
  std::int64_t tp_comm_overlap_directions = 1;
  // How a training step's parallel ranks sit on the chips: rank_order (Megatron-LM's
  // device = t + tp x (c + cp x (d + dp x p))) or torus_axes (XLA's device mesh on a TPU
  // torus: each parallelism axis on whole torus axes [JAX-MESH]; training only).
  std::string mesh_placement = "rank_order";
  std::vector<std::string> dtypes;  // native
  std::map<std::string, std::string> sources;  // figure -> source or estimate
  YAML::Node resolved;              // the stack as loaded, for config.resolved.yaml

  bool runs_dtype(const std::string& dtype) const;
  // Whether an iteration with this many prefill chunks and decoding sequences is replayed
  // as a captured graph (vLLM, TensorRT-LLM and optimum-habana capture decode-only batches;
  // prefill runs eager; vLLM V0 captures decode batches up to 256 and runs larger ones eager).
  bool captured(std::size_t prefill_chunks, std::int64_t decode_sequences = 0) const;
  // Bytes of a device's KV tier (`capacity`, of which `used` already holds weights and
  // activations) the KV pool may take at `share` (the workload's memory_utilization).
  double kv_pool_bytes(double capacity, double used, double share) const;
  // Host preparation of one iteration of `sequences` sequences: base + per_sequence x n.
  Seconds host_time(std::int64_t sequences) const;
  // Host time to launch one iteration of `kernels` kernels: graph_launch when captured,
  // else kernels x launch_overhead. The device cannot finish before the host has launched.
  Seconds launch_time(std::int64_t kernels, bool is_captured) const;
  // Whether the launches precede the device ops (dispatch: lazy) instead of running beside them.
  bool launch_precedes_device() const { return dispatch == "lazy"; }
};

// Directory of the shipped stacks: $LLMSIM_HOME/topologies/software, else the source tree's.
std::string default_software_dir();
// A stack by name (DIR/NAME.yaml) or path; `from` positions the error for an unknown name.
SoftwareStack load_software_file(const std::string& name_or_path, const SourcePos& from);
// A stack given inline (a map, as config.resolved.yaml records it).
SoftwareStack load_software_node(const YAML::Node& node, const std::string& file, const std::string& what);
// The stack a system runs when its workload names none: DIR/defaults.yaml by chip name,
// else by chip family; "" when neither lists it.
std::string default_software_for(const std::string& chip_name, const std::string& chip_family);

}  // namespace llmsim
