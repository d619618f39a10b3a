#include "sim/engine/resource_guard.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace llmsim {
namespace {

// A lenient integer read: the loader, not the guard, reports malformed fields.
std::int64_t int_or_zero(const YAML::Node& n) {
  if (!n || !n.IsScalar()) return 0;
  char* end = nullptr;
  double v = std::strtod(n.Scalar().c_str(), &end);
  if (end == n.Scalar().c_str() || *end != 0 || !(v > 0)) return 0;
  return static_cast<std::int64_t>(std::min(v, 9e18));
}

// One "key: value kB" line of /proc/meminfo, in bytes (0 if absent).
double meminfo_bytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string k;
  double v = 0;
  std::string unit;
  while (in >> k >> v >> unit) {
    if (k == key + ":") return v * 1024.0;
  }
  return 0;
}

double cgroup_limit_bytes() {
  for (const char* p : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(p);
    std::string s;
    if (in >> s && s != "max") {
      double v = std::strtod(s.c_str(), nullptr);
      if (v > 0 && v < 1e18) return v;
    }
  }
  return 0;
}

std::string mb(double bytes) {
  char buf[32];
  if (bytes >= 1e9) std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  else std::snprintf(buf, sizeof buf, "%.0f MB", bytes / 1e6);
  return buf;
}

}  // namespace

std::int64_t estimated_requests(const Doc& workload) {
  const YAML::Node& root = workload.root;
  const YAML::Node req = root["requests"];
  if (req && req.IsMap()) return int_or_zero(req["count"]);
  const YAML::Node trace = root["trace"];
  if (!trace || !trace.IsMap()) return 0;
  std::int64_t limit = int_or_zero(trace["limit"]);
  if (limit > 0) return limit;
  const YAML::Node file = trace["file"];
  if (!file || !file.IsScalar()) return 0;
  // Where the trace reader looks: beside the workload, then the project root.
  for (const std::string& p : {workload.resolve(file.Scalar()), project_root() + "/" + file.Scalar()}) {
    struct stat st;
    // The shortest plausible row ("0,1,1\n") is 6 bytes: an upper bound on the row count.
    if (::stat(p.c_str(), &st) == 0) return static_cast<std::int64_t>(st.st_size / 6);
  }
  return 0;
}

MemoryEstimate estimate_memory(const Topology& topo, const Doc& workload) {
  MemoryEstimate e;
  e.requests = estimated_requests(workload);
  double devices = topo.num_devices(), links = static_cast<double>(topo.links.size());
  e.bytes = kBaseBytes + devices * kBytesPerDevice + links * kBytesPerLink +
            static_cast<double>(e.requests) * kBytesPerRequest;
  std::ostringstream os;
  os << topo.num_devices() << " devices x " << kBytesPerDevice / 1e3 << " KB + " << topo.links.size()
     << " links x " << kBytesPerLink / 1e3 << " KB + " << e.requests << " requests x " << kBytesPerRequest
     << " B + " << kBaseBytes / 1e6 << " MB base";
  e.breakdown = os.str();
  return e;
}

double memory_budget_bytes() {
  if (const char* s = std::getenv("LLMSIM_MEMORY_LIMIT")) {
    try {
      return parse_quantity(s, Dim::Size);
    } catch (const UnitError& e) {
      throw InputError({"LLMSIM_MEMORY_LIMIT", 1, e.offset + 1}, "LLMSIM_MEMORY_LIMIT: " + e.message);
    }
  }
  double avail = meminfo_bytes("MemAvailable");
  double cg = cgroup_limit_bytes();
  double budget = avail > 0 && cg > 0 ? std::min(avail, cg) : std::max(avail, cg);
  return budget > 0 ? 0.8 * budget : 0;  // 0 = unknown: no refusal
}

void check_resources(const Topology& topo, const Doc& workload) {
  MemoryEstimate e = estimate_memory(topo, workload);
  double budget = memory_budget_bytes();
  if (budget > 0 && e.bytes > budget) {
    const char* source = std::getenv("LLMSIM_MEMORY_LIMIT") ? "LLMSIM_MEMORY_LIMIT" : "80% of available memory";
    throw InfeasibleError("estimated memory " + mb(e.bytes) + " (" + e.breakdown + ") exceeds the " + mb(budget) +
                          " this run may use (" + source + "); use fewer devices or requests (trace.limit, "
                          "requests.count), or set LLMSIM_MEMORY_LIMIT");
  }
}

}  // namespace llmsim
