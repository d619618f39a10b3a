// `kind: microbench`: single operators run one after another (each `repeat` times) to
// calibrate and validate the models. Compute/memory ops (gemm, attention, copy, vector ops)
// run on a device's ComputeCore; collective ops (allreduce, allgather, reducescatter,
// alltoall, broadcast, reduce, sendrecv) are parsed and run by microbench_collective.cpp, which
// belongs to the network model.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/core/units.h"
#include "sim/core/yaml_doc.h"
#include "sim/topo/topology.h"

namespace llmsim {

class Simulation;

// One row of summary.json "microbench" (mean over the op's repeats).
struct MicrobenchResult {
  std::string op;                 // as written: "gemm", "allreduce", ...
  std::string device;             // device name ("" for multi-device collectives)
  std::string detail;             // shape for the human table ("m=8192 n=8192 k=8192 bf16")
  std::string dtype;              // resolved dtype ("" for copies and collectives)
  Seconds time = 0;               // per repetition
  Flops flops = 0;                // useful FLOPs per repetition
  Bytes bytes = 0;                // bytes moved per repetition (read + written)
  Bytes size = 0;                 // nccl-tests "size": algbw = size / time
  BytesPerSecond busbw = 0;       // nccl-tests bus bandwidth (collectives); = algbw otherwise
  std::int64_t tiles = 0, waves = 0;
  FlopsPerSecond peak_flops = 0;        // chip peak for the op's dtype
  BytesPerSecond peak_bytes_per_s = 0;  // peak bandwidth of the tier it streams
  bool memory_bound = false;
  std::string algorithm;          // collectives: the algorithm used
  std::string protocol;           // collectives: the library's protocol ("" = none modelled)
  Joules energy = 0;              // dynamic energy per repetition
  std::vector<std::pair<std::string, double>> extra;  // more summary keys (per-dimension busbw)
  std::string table_line;         // collectives: the nccl-tests-shaped row printed instead
};

// A collective microbench op. The network model's parse_collective_op fills it; fields
// may be added there freely.
struct CollectiveOpSpec {
  std::string op;                 // allreduce | allgather | reducescatter | alltoall | broadcast | sendrecv
  SourcePos pos;                  // the op's map, for errors raised at run time
  Bytes bytes = 0;                // per rank (nccl-tests size)
  std::vector<int> group;         // device indices taking part
  std::string algorithm = "auto";
  int root = 0;
  int src = -1, dst = -1;         // sendrecv endpoints
  std::vector<Bytes> sizes;       // `sizes:` sweep: the microbench runs one row per size
  Bytes element = 4;              // bytes per element for nccl-tests "count" (dtype, float)
};

// Header of the nccl-tests-shaped table printed before the first collective row.
std::string collective_table_header();

bool is_collective_op(const std::string& op);
const std::vector<std::string>& collective_op_names();

// Parses the fields of one collective op from `f` ("op" and "repeat" are already read;
// the caller calls f.finish()). `topo` is empty under `llmsim check`: skip name checks
// then. Throws InputError with positions. Defined in microbench_collective.cpp.
CollectiveOpSpec parse_collective_op(const std::string& op, Params& f, const Topology& topo);

// The declaration table of one `ops` item, by its op name ("workload:microbench.ops[gemm]").
// Defined in microbench_params.cpp.
std::string microbench_op_section(const YAML::Node& item);

// Runs one repetition on sim.network(); `done` receives time, size, algbw/busbw, ...
// Defined in microbench_collective.cpp.
void run_collective_op(Simulation& sim, const CollectiveOpSpec& spec,
                       std::function<void(const MicrobenchResult&)> done);

}  // namespace llmsim
