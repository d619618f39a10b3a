// Up-front memory estimate for a run (docs/testing.md "Large inputs"): a set-up that would
// not fit is refused with exit 3 and the arithmetic, before anything large is allocated,
// instead of being OOM-killed halfway. Figures are per-item costs measured on the Release
// binary (docs/testing.md), with headroom.
#pragma once
#include <cstdint>
#include <string>

#include "sim/core/yaml_doc.h"
#include "sim/topo/topology.h"

namespace llmsim {

struct MemoryEstimate {
  double bytes = 0;          // whole process, estimated peak
  std::int64_t requests = 0;  // requests the workload will hold (0 if none / unknown)
  std::string breakdown;     // "65536 devices x 6 KB + 1000000 requests x 600 B + 64 MB base"
};

// Per-item costs (bytes), measured: see docs/testing.md for the runs behind them.
constexpr double kBaseBytes = 64e6;          // binary, SystemC kernel, catalog, buffers
// Measured (test_limits_large.cpp, 65,536 devices): streams, tiers, ports and the resource
// arbiter make a device ~12 KB, plus ~1.4 KB per tier for its TLM-2.0 target socket
// (h100-16k: +44 MB); a link module with its two ports ~3 KB.
constexpr double kBytesPerDevice = 16e3;     // SystemC Device module tree + topology vertex
constexpr double kBytesPerLink = 4e3;        // link module + graph edge + flow state
constexpr double kBytesPerRequest = 600;     // request + scheduler/metrics state + csv row

// Requests a workload document asks for: requests.count, or trace.limit, or (no limit) an
// estimate from the trace file's size. Lenient: anything malformed counts 0 and is left to
// the workload loader to report.
std::int64_t estimated_requests(const Doc& workload);

MemoryEstimate estimate_memory(const Topology& topo, const Doc& workload);

// Memory this run may use: $LLMSIM_MEMORY_LIMIT ("8 GiB") when set, else the smaller of
// MemAvailable and the cgroup limit, times 0.8.
double memory_budget_bytes();

// Throws InfeasibleError (exit 3) naming the estimate and the budget when it does not fit.
void check_resources(const Topology& topo, const Doc& workload);

}  // namespace llmsim
