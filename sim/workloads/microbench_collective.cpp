// Collective microbench ops (allreduce, allgather, reducescatter, alltoall, broadcast,
// reduce, sendrecv), owned by the network model: parsed against the topology, run on
// sim.network(), reported the way nccl-tests reports them (size, count, time, algbw,
// busbw), so results sit next to real nccl-tests output (CALIBRATION.md C3).
#include <cstdio>
#include <map>

#include "models/network.h"
#include "sim/engine/simulation.h"
#include "sim/net/collective.h"
#include "sim/workloads/microbench.h"

namespace llmsim {
namespace {

CollectiveKind kind_of(const std::string& op) {
  static const std::map<std::string, CollectiveKind> k = {
      {"allreduce", CollectiveKind::AllReduce}, {"allgather", CollectiveKind::AllGather},
      {"reducescatter", CollectiveKind::ReduceScatter}, {"alltoall", CollectiveKind::AllToAll},
      {"broadcast", CollectiveKind::Broadcast}, {"reduce", CollectiveKind::Reduce},
      {"sendrecv", CollectiveKind::SendRecv}};
  return k.at(op);
}

// Element sizes for nccl-tests' "count" column (its default type is float).
const std::map<std::string, double>& element_bytes() {
  static const std::map<std::string, double> m = {{"fp64", 8}, {"fp32", 4}, {"float", 4}, {"bf16", 2},
                                                  {"fp16", 2}, {"fp8", 1},  {"int8", 1},  {"int32", 4}};
  return m;
}

int device_named(Params& f, const YAML::Node& node, const Topology& topo, const std::string& key) {
  std::string name = as_string(node, f.file(), key);
  int d = topo.device_by_name(name);
  if (d >= 0) return d;
  std::vector<std::string> names;
  for (int i = 0; i < topo.num_devices() && i < 4096; ++i) names.push_back(topo.vertices[static_cast<size_t>(i)].name);
  std::string near = nearest(name, names);
  throw InputError(pos_of(node, f.file()), key + ": unknown device '" + name + "'" +
                                               (near.empty() ? "" : " (did you mean '" + near + "'?)") + "; " +
                                               topo.name + " has " + names.front() + " .. " + names.back());
}

double positive_size(const YAML::Node& node, const std::string& file, const std::string& what) {
  double b = as_quantity(node, file, Dim::Size, what);
  if (!(b > 0)) throw InputError(pos_of(node, file), what + ": must be a positive size, e.g. 1 GiB");
  return b;
}

}  // namespace

std::string collective_table_header() {
  char line[200];
  std::snprintf(line, sizeof line, "%-14s %14s %12s %10s %12s %10s %10s  %s\n", "#  collective", "size (B)", "count",
                "type", "time (us)", "algbw GB/s", "busbw GB/s", "algorithm");
  return line;
}

CollectiveOpSpec parse_collective_op(const std::string& op, Params& f, const Topology& topo) {
  CollectiveOpSpec s;
  s.op = op;
  s.pos = f.pos();
  bool have = topo.num_devices() > 0;  // empty under `llmsim check`
  if (f.has("bytes") == f.has("sizes")) f.fail(f.has("bytes") ? "sizes" : "op", op + ": give exactly one of `bytes:` or `sizes: [...]`");
  if (f.has("bytes")) {
    s.bytes = positive_size(f.get("bytes"), f.file_for("bytes"), "bytes");
    s.sizes = {s.bytes};
    f.set_resolved("bytes", resolved_quantity(s.bytes, Dim::Size));
  } else {
    YAML::Node list = f.get("sizes");
    if (!list.IsSequence() || list.size() == 0) f.fail("sizes", "expected a non-empty list of sizes, e.g. [1 MiB, 16 MiB]");
    for (auto n : list) s.sizes.push_back(positive_size(n, f.file(), "sizes"));
    for (size_t i = 0; i < s.sizes.size(); ++i) f.resolved()["sizes"][i] = resolved_quantity(s.sizes[i], Dim::Size);
    s.bytes = s.sizes.front();
  }
  std::string type = f.str("dtype");
  auto et = element_bytes().find(type);
  if (et == element_bytes().end()) f.fail("dtype", "unknown element type '" + type + "' (fp64 fp32 bf16 fp16 fp8 int8 int32)");
  s.element = et->second;
  CollectiveKind kind = kind_of(op);
  if (kind == CollectiveKind::SendRecv) {
    YAML::Node from = f.get("from"), to = f.get("to");
    f.str("algorithm");
    if (have) {
      s.src = device_named(f, from, topo, "from");
      s.dst = device_named(f, to, topo, "to");
      if (s.src == s.dst) f.fail("to", "sendrecv needs two different devices");
      s.group = {s.src, s.dst};
    }
    return s;
  }
  s.algorithm = f.str("algorithm");
  YAML::Node g = f.opt("group");
  if (g && !g.IsSequence() && !(g.IsScalar() && g.Scalar() == "all"))
    f.fail("group", "expected `all` or a list of device names");
  if (have) {
    if (!g || g.IsScalar()) {
      for (int d = 0; d < topo.num_devices(); ++d) s.group.push_back(d);
    } else {
      std::vector<char> seen(static_cast<size_t>(topo.num_devices()), 0);
      for (auto n : g) {
        int d = device_named(f, n, topo, "group");
        if (seen[static_cast<size_t>(d)]) throw InputError(pos_of(n, f.file()), "group: device listed twice");
        seen[static_cast<size_t>(d)] = 1;
        s.group.push_back(d);
      }
    }
    if (YAML::Node r = f.opt("root")) {
      int d = device_named(f, r, topo, "root");
      s.root = -1;
      for (size_t i = 0; i < s.group.size(); ++i)
        if (s.group[i] == d) s.root = static_cast<int>(i);
      if (s.root < 0) throw InputError(pos_of(r, f.file()), "root: not a member of the group");
    }
    CollectiveRequest req{kind, s.group, s.bytes, s.root};
    std::string why = collective_unsupported(topo, req, s.algorithm);
    if (!why.empty()) f.fail(f.has("algorithm") ? "algorithm" : "op", op + ": " + why);
  } else {
    f.opt("root");
  }
  return s;
}

void run_collective_op(Simulation& sim, const CollectiveOpSpec& spec, std::function<void(const MicrobenchResult&)> done) {
  CollectiveKind kind = kind_of(spec.op);
  auto report = [spec, done](const CollectiveResult& r) {
    MicrobenchResult m;
    m.op = spec.op;
    m.time = r.time;
    m.size = spec.bytes;
    m.bytes = spec.bytes;
    m.busbw = r.busbw;
    m.algorithm = r.algorithm;
    m.protocol = r.protocol;
    const std::string used = r.protocol.empty() ? r.algorithm : r.algorithm + " " + r.protocol;
    m.detail = format_quantity(spec.bytes, Dim::Size) + " " + used;
    for (const auto& d : r.dims) {
      m.extra.emplace_back("busbw_" + d.label + "_bytes_per_s", d.busbw);
      m.extra.emplace_back("time_" + d.label + "_s", d.time);
    }
    double algbw = r.time > 0 ? (spec.bytes / r.time).value() : 0;
    char line[240];
    std::snprintf(line, sizeof line, "%-14s %14.0f %12.0f %10s %12.2f %10.2f %10.2f  %s\n", spec.op.c_str(),
                  spec.bytes.value(), spec.bytes.value() / spec.element,
                  spec.element == 4   ? "float"
                  : spec.element == 2 ? "half"
                                      : "byte",
                  r.time.value() * 1e6, algbw / 1e9, r.busbw.value() / 1e9, used.c_str());
    m.table_line = line;
    done(m);
  };
  try {
    sim.network().collective(kind, spec.group, spec.bytes, spec.algorithm, report, spec.root);
  } catch (const InputError& e) {
    throw InputError(spec.pos, spec.op + ": " + e.what(), e.hint());
  }
}

}  // namespace llmsim
