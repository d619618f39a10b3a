#include "sim/net/collective.h"

#include <algorithm>
#include <map>
#include <set>

#include "sim/core/error.h"

namespace llmsim {
namespace {
// `auto` compares the modelled cost (estimate_plan) of the algorithms the collective
// libraries would run for the request and takes the cheapest. The candidates are what
// NCCL / RCCL / HCCL / XLA implement: ring, double binary tree across nodes (inside a
// node NCCL chains the GPUs instead [NCCL-SRC]), NVLS / SHARP, the hierarchical node +
// rail scheme, torus rings, and the two-shot `direct` only on full meshes (RCCL's and
// HCCL's direct kernels on MI300X / Gaudi boxes; NCCL has none). Where the stack's own
// all-reduce kernel takes the message (custom_allreduce_runs: vLLM's and TensorRT-LLM's
// custom all-reduce inside an NVLink / xGMI domain) the candidates are its one-shot and
// two-shot forms alone. halving-doubling is MPI's and runs only when named.
const char* const kAutoPreference[] = {"ring", "hierarchical", "torus", "in-switch", "tree", "direct", "one-shot"};
// Ties (equal modelled time, to this relative margin) go to the earlier name above.
constexpr double kTieMargin = 1e-9;
// A guard for what a tree costs to *simulate*, not its physics: tree edges share NVLink
// ports and fat-tree uplinks, so a tree runs per flow and exact max-min costs grow with
// the square of the contended flows (1,024 ranks: 0.5 s wall; 4,096: 12 s).
constexpr int kTreeAutoMaxRanks = 1024;

// Every member has its own link to every other (MI300X, Gaudi boxes): one-shot
// algorithms use all n-1 links where a ring uses 2 (CHIPS.md collective hints). Checked
// only for small groups: full meshes are box-sized.
constexpr int kFullMeshMaxRanks = 64;
bool full_mesh(const Topology& topo, const std::vector<int>& group) {
  if (group.size() < 3 || group.size() > static_cast<size_t>(kFullMeshMaxRanks)) return false;
  for (int a : group)
    for (int b : group)
      if (a != b && topo.route(a, b).hops.size() != 1) return false;
  return true;
}

std::map<std::string, std::unique_ptr<CollectiveAlgorithm>>& algorithm_registry() {
  static std::map<std::string, std::unique_ptr<CollectiveAlgorithm>> r;  // immutable after start-up
  return r;
}

}  // namespace

const char* collective_name(CollectiveKind k) {
  switch (k) {
    case CollectiveKind::AllReduce: return "allreduce";
    case CollectiveKind::AllGather: return "allgather";
    case CollectiveKind::ReduceScatter: return "reducescatter";
    case CollectiveKind::AllToAll: return "alltoall";
    case CollectiveKind::Broadcast: return "broadcast";
    case CollectiveKind::Reduce: return "reduce";
    case CollectiveKind::SendRecv: return "sendrecv";
  }
  return "?";
}

bool AlgorithmRegistry::add(const std::string& name, Factory f) {
  algorithm_registry()[name] = f();
  return true;
}

const CollectiveAlgorithm* AlgorithmRegistry::get(const std::string& name) {
  auto it = algorithm_registry().find(name);
  return it == algorithm_registry().end() ? nullptr : it->second.get();
}

std::vector<std::string> AlgorithmRegistry::names() {
  std::vector<std::string> n;
  for (auto& kv : algorithm_registry()) n.push_back(kv.first);
  return n;
}

double busbw_factor(CollectiveKind kind, int n) {
  if (n <= 1) return kind == CollectiveKind::SendRecv ? 1.0 : 0.0;
  switch (kind) {
    case CollectiveKind::AllReduce: return 2.0 * (n - 1) / n;
    case CollectiveKind::AllGather:
    case CollectiveKind::ReduceScatter:
    case CollectiveKind::AllToAll: return static_cast<double>(n - 1) / n;
    default: return 1.0;
  }
}

std::vector<std::string> auto_candidates(const Topology& topo, const CollectiveRequest& req, std::string* tried) {
  std::vector<std::string> out;
  const bool custom = custom_allreduce_runs(topo, req);
  for (const char* name : kAutoPreference) {
    const CollectiveAlgorithm* a = AlgorithmRegistry::get(name);
    if (!a) continue;
    std::string why = a->unsupported(topo, req);
    const std::string n = name;
    const bool custom_form = n == "one-shot" || n == "direct";
    if (why.empty() && custom && !custom_form) why = "the stack's custom all-reduce runs this message";
    if (why.empty() && !custom && n == "one-shot") why = "auto runs one-shot only as a stack's custom all-reduce";
    if (why.empty() && n == "tree" && req.group.size() > static_cast<size_t>(kTreeAutoMaxRanks))
      why = "auto runs trees up to " + std::to_string(kTreeAutoMaxRanks) + " ranks (simulation cost)";
    if (why.empty() && n == "tree" && members_by_node(topo, req.group).size() < 2)
      why = "auto runs trees across nodes only (NCCL's trees chain the GPUs inside a node)";
    if (why.empty() && !custom && n == "direct" && req.kind != CollectiveKind::AllToAll && !full_mesh(topo, req.group))
      why = "auto runs one-shot only on a full mesh";
    if (why.empty()) out.push_back(n);
    else if (tried && tried->size() < 600) *tried += (tried->empty() ? "" : "; ") + n + ": " + why;
  }
  return out;
}

std::vector<AlgorithmCost> auto_costs(const Topology& topo, const CollectiveRequest& req) {
  std::vector<AlgorithmCost> out;
  for (const auto& name : auto_candidates(topo, req))
    out.push_back({name, estimate_plan(topo, plan_for(topo, req, name))});
  return out;
}

Plan plan_for(const Topology& topo, const CollectiveRequest& req, const std::string& algorithm) {
  Plan plan = AlgorithmRegistry::get(algorithm)->plan(topo, req);
  plan.algorithm = algorithm;
  if (!req.library) return plan;
  // The stack's own kernel runs its one-shot and two-shot forms under its own figures.
  if ((algorithm == "one-shot" || algorithm == "direct") && custom_allreduce_runs(topo, req))
    return plan_with_protocol(topo, *req.library, req.library->custom, req, plan);
  return plan_best_protocol(topo, *req.library, req, plan);
}

std::string choose_algorithm(const Topology& topo, const CollectiveRequest& req) {
  if (req.kind == CollectiveKind::SendRecv) return "p2p";
  if (req.group.size() <= 1) return "none";
  auto names = auto_candidates(topo, req);
  if (names.empty()) return "direct";  // collective_unsupported reports why first
  if (names.size() == 1) return names.front();
  const AlgorithmCost* best = nullptr;
  auto costs = auto_costs(topo, req);
  for (const auto& c : costs)
    if (!best || c.time < best->time * (1 - kTieMargin)) best = &c;
  return best->algorithm;
}

std::string collective_unsupported(const Topology& topo, const CollectiveRequest& req, const std::string& algorithm) {
  for (int d : req.group)
    if (d < 0 || d >= topo.num_devices()) return "group names device index " + std::to_string(d) + ", not in the topology";
  std::set<int> seen(req.group.begin(), req.group.end());
  if (seen.size() != req.group.size()) return "group lists a device twice";
  if (req.kind == CollectiveKind::SendRecv) {
    if (req.group.size() != 2) return "send/recv needs exactly two devices (from, to)";
    return "";
  }
  if (req.group.empty()) return "empty group";
  if (req.root < 0 || req.root >= static_cast<int>(req.group.size())) return "root is not a member of the group";
  if (req.group.size() < 2) return "";
  if (algorithm == "auto") {
    std::string tried;
    if (!auto_candidates(topo, req, &tried).empty()) return "";
    return std::string("no algorithm can run ") + collective_name(req.kind) + " here (auto tried " + tried + ")";
  }
  const CollectiveAlgorithm* a = AlgorithmRegistry::get(algorithm);
  if (!a) {
    std::string known;
    for (auto& n : AlgorithmRegistry::names()) known += (known.empty() ? "" : ", ") + n;
    return "unknown algorithm '" + algorithm + "' (known: auto, " + known + ")";
  }
  std::string why = a->unsupported(topo, req);
  return why.empty() ? "" : algorithm + " cannot run " + collective_name(req.kind) + " here: " + why;
}

std::vector<int> link_components(const Topology& topo, const std::vector<char>& down) {
  size_t nv = topo.vertices.size();
  std::vector<std::vector<int>> adj(nv);
  for (size_t i = 0; i < topo.links.size(); ++i) {
    if (!down.empty() && down[i]) continue;
    const LinkInfo& l = topo.links[i];
    adj[static_cast<size_t>(l.a)].push_back(l.b);
    adj[static_cast<size_t>(l.b)].push_back(l.a);
  }
  std::vector<int> comp(nv, -1);
  int next = 0;
  for (size_t s = 0; s < nv; ++s) {
    if (comp[s] >= 0) continue;
    std::vector<int> todo{static_cast<int>(s)};
    comp[s] = next;
    while (!todo.empty()) {
      int v = todo.back();
      todo.pop_back();
      for (int w : adj[static_cast<size_t>(v)])
        if (comp[static_cast<size_t>(w)] < 0) {
          comp[static_cast<size_t>(w)] = next;
          todo.push_back(w);
        }
    }
    ++next;
  }
  return comp;
}

void check_connected(const Topology& topo, const std::vector<int>& group, const std::vector<int>& comp) {
  if (group.size() < 2) return;
  int home = comp[static_cast<size_t>(group[0])];
  std::string in, out;
  int n_out = 0;
  for (int d : group) {
    bool reach = comp[static_cast<size_t>(d)] == home;
    std::string& s = reach ? in : out;
    if (!reach) ++n_out;
    if (s.size() < 200) s += (s.empty() ? "" : ", ") + topo.vertices[static_cast<size_t>(d)].name;
  }
  if (n_out > 0)
    throw InfeasibleError("collective group is partitioned: {" + in + "} cannot reach {" + out + "} (" +
                          std::to_string(n_out) + " of " + std::to_string(group.size()) +
                          " members cut off; no links join the two sides)");
}

void check_connected(const Topology& topo, const std::vector<int>& group) {
  if (group.size() >= 2) check_connected(topo, group, link_components(topo));
}

PatternPtr make_pattern() { return std::make_shared<Pattern>(); }

void add_ring(Pattern& p, const std::vector<int>& order, bool reverse) {
  size_t n = order.size();
  if (n < 2) return;  // a 2-ring is one exchange each way, which the loop yields
  for (size_t i = 0; i < n; ++i) {
    int a = order[i], b = order[(i + 1) % n];
    if (reverse) std::swap(a, b);
    add_pair(p, a, b);
  }
}

void add_pair(Pattern& p, int src, int dst, double weight) {
  if (weight != 1 && p.weight.empty()) p.weight.assign(p.pairs.size(), 1.0);
  p.pairs.emplace_back(src, dst);
  if (!p.weight.empty()) p.weight.push_back(weight);
}

bool is_power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

std::vector<int> reducing_switches(const Topology& topo, const std::vector<int>& group) {
  if (group.empty()) return {};
  // One pass over the links: for each member, the reducing switches it is wired to.
  std::vector<int> rank(topo.vertices.size(), -1);
  for (size_t i = 0; i < group.size(); ++i) rank[static_cast<size_t>(group[i])] = static_cast<int>(i);
  std::vector<std::set<int>> mine(group.size());
  for (const LinkInfo& l : topo.links) {
    for (int side = 0; side < 2; ++side) {
      int d = side ? l.b : l.a, other = side ? l.a : l.b;
      if (rank[static_cast<size_t>(d)] < 0) continue;
      const VertexInfo& v = topo.vertices[static_cast<size_t>(other)];
      if (v.kind != VertexInfo::Kind::Switch) continue;
      bool inr = v.in_network_reduction;
      for (const FabricInfo& f : topo.fabrics)
        if (f.name == l.fabric && f.in_network_reduction) inr = true;
      if (inr) mine[static_cast<size_t>(rank[static_cast<size_t>(d)])].insert(other);
    }
  }
  std::vector<int> common(mine[0].begin(), mine[0].end());
  for (size_t i = 1; i < mine.size() && !common.empty(); ++i) {
    std::vector<int> keep;
    for (int s : common)
      if (mine[i].count(s)) keep.push_back(s);
    common.swap(keep);
  }
  return common;
}

std::vector<std::vector<int>> members_by_node(const Topology& topo, const std::vector<int>& group) {
  std::map<int, std::vector<int>> by;
  for (int d : group) by[topo.vertices[static_cast<size_t>(d)].node].push_back(d);
  std::vector<std::vector<int>> out;
  for (auto& kv : by) {
    if (!out.empty() && kv.second.size() != out.front().size()) return {};
    out.push_back(kv.second);
  }
  return out;
}

}  // namespace llmsim
