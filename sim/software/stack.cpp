#include "sim/software/stack.h"

#include <algorithm>
#include <sys/stat.h>

#include "sim/core/error.h"
#include "sim/core/params.h"
#include "sim/core/paths.h"
#include "sim/spec/chip.h"

namespace llmsim {
namespace {

// Every figure the file gives needs a `sources` entry: a bracketed source key or an
// explicit "estimate: why" (docs/software.md). `given` are the figures' dotted names.
void check_sources(Params& f, const std::map<std::string, std::string>& sources, const std::vector<std::string>& given) {
  for (const auto& g : given) {
    auto it = sources.find(g);
    if (it == sources.end()) f.fail("sources", "figure '" + g + "' has no source (add `" + g + ": \"[KEY] ...\"` or `" + g +
                                                   ": \"estimate: why\"` under sources)");
    const std::string& s = it->second;
    if (!(s.rfind("[", 0) == 0 || s.rfind("estimate:", 0) == 0))
      f.fail("sources", "source of '" + g + "' must start with a [SOURCE-KEY] or 'estimate:' (got \"" + s + "\")");
  }
  for (const auto& kv : sources) {
    if (std::find(given.begin(), given.end(), kv.first) == given.end())
      f.fail("sources", "'" + kv.first + "' is not a figure this file gives");
  }
}

std::vector<std::string> string_list(Params& f, const std::string& key) {
  std::vector<std::string> out;
  YAML::Node n = f.opt(key);
  if (!n) return out;
  if (!n.IsSequence()) f.fail(key, "must be a list of names");
  for (auto x : n) out.push_back(as_string(x, f.file_for(key), key + "[]"));
  return out;
}

// `given` collects the dotted names of the figures a file states (each needs a source).
void note_given(Params& p, const std::string& section, const std::string& key, std::vector<std::string>& given) {
  if (p.has(key)) given.push_back(section + "." + key);
}

void parse_stack_kernels(Params& f, SoftwareStack& s, std::vector<std::string>& given) {
  Params k = f.child("kernels");
  s.launch_overhead = k.qty("launch_overhead");
  s.graphs = k.choice("graphs");
  s.graph_launch = k.qty("graph_launch");
  s.graph_max_batch = k.integer("graph_max_batch");
  s.dispatch = k.choice("dispatch");
  for (const char* key : {"launch_overhead", "graphs", "graph_launch"}) note_given(k, "kernels", key, given);
  if (s.launch_overhead < 0 || s.graph_launch < 0) k.fail("launch_overhead", "times must be >= 0");
  if (s.graph_max_batch < 0) k.fail("graph_max_batch", "must be >= 0 (0: every batch size is captured)");
  k.finish();
}

void parse_stack_host(Params& f, SoftwareStack& s, std::vector<std::string>& given) {
  Params h = f.child("host");
  s.host_base = h.qty("base");
  s.host_per_sequence = h.qty("per_sequence");
  s.host_overlap = h.boolean("overlap");
  for (const char* key : {"base", "per_sequence", "overlap"}) note_given(h, "host", key, given);
  if (s.host_base < 0 || s.host_per_sequence < 0) h.fail("base", "times must be >= 0");
  h.finish();
}

void parse_stack_attention(Params& f, SoftwareStack& s, std::vector<std::string>& given) {
  Params a = f.child("attention");
  s.attention_kernel = a.str("kernel");
  s.attention_softmax = a.choice("softmax");
  s.attention_softmax_exposed = a.num("softmax_exposed");
  if (!(s.attention_softmax_exposed >= 0 && s.attention_softmax_exposed <= 1))
    a.fail("softmax_exposed", "must be between 0 and 1");
  s.attention_mma = a.choice("mma");
  s.attention_kv_cache = a.choice("kv_cache");
  for (const char* key : {"kernel", "softmax", "mma", "kv_cache"}) note_given(a, "attention", key, given);
  a.finish();
}

void parse_stack_collective(Params& f, SoftwareStack& s, std::vector<std::string>& given) {
  Params c = f.child("collective");
  s.collective_library = c.str("library");
  s.protocols = string_list(c, "protocols");
  s.channels = c.integer("channels");
  if (s.channels < 0) c.fail("channels", "must be >= 0");
  for (const char* key : {"library", "protocols", "channels"}) note_given(c, "collective", key, given);
  if (c.has("custom_allreduce")) {
    Params a = c.child("custom_allreduce");
    s.custom_allreduce_max_bytes = a.qty("max_bytes");
    s.custom_allreduce_max_ranks = a.integer("max_ranks");
    s.custom_allreduce_base_latency = a.qty("base_latency");
    s.custom_allreduce_step_latency = a.qty("step_latency");
    if (!(s.custom_allreduce_max_bytes > 0)) a.fail("max_bytes", "must be > 0");
    if (s.custom_allreduce_max_ranks < 2) a.fail("max_ranks", "must be >= 2");
    if (s.custom_allreduce_base_latency < 0 || s.custom_allreduce_step_latency < 0)
      a.fail("base_latency", "latencies must be >= 0");
    for (const char* key : {"max_bytes", "max_ranks", "base_latency", "step_latency"})
      note_given(a, "collective.custom_allreduce", key, given);
    a.finish();
  }
  c.finish();
}

// kv_cache, tensor_parallel and device_mesh: each has a default every stack shares.
void parse_stack_policies(Params& f, SoftwareStack& s) {
  Params k = f.child("kv_cache");
  s.kv_budget = k.choice("budget");
  k.finish();
  Params t = f.child("tensor_parallel");
  s.tp_comm_overlap = t.boolean("comm_overlap");
  s.tp_comm_overlap_directions = t.integer("comm_overlap_directions");
  if (s.tp_comm_overlap_directions != 1 && s.tp_comm_overlap_directions != 2) {
    t.fail("comm_overlap_directions", "must be 1 or 2");
  }
  t.finish();
  Params m = f.child("device_mesh");
  s.mesh_placement = m.choice("placement");
  m.finish();
}

// `ahead` is how every stack's launches behave unless it says otherwise, so only `lazy` is a
// claim that needs a source (config.resolved.yaml writes the default back without one).
// Likewise no graph-capture limit (0), a KV budget out of the total (vLLM's rule), no TP
// overlap (false), rank-order placement and a wholly hidden overlapped softmax (0) are the
// defaults. A default becomes a figure
// the file gives when it is changed or sourced anyway.
void note_changed_defaults(const SoftwareStack& s, std::vector<std::string>& given) {
  auto sourced = [&s](const char* key) { return s.sources.count(key) > 0; };
  if (s.dispatch != "ahead" || sourced("kernels.dispatch")) given.push_back("kernels.dispatch");
  if (s.graph_max_batch != 0 || sourced("kernels.graph_max_batch")) given.push_back("kernels.graph_max_batch");
  if (s.kv_budget != "total" || sourced("kv_cache.budget")) given.push_back("kv_cache.budget");
  if (s.tp_comm_overlap || sourced("tensor_parallel.comm_overlap")) given.push_back("tensor_parallel.comm_overlap");
  if (s.tp_comm_overlap_directions != 1 || sourced("tensor_parallel.comm_overlap_directions")) {
    given.push_back("tensor_parallel.comm_overlap_directions");
  }
  if (s.mesh_placement != "rank_order" || sourced("device_mesh.placement")) given.push_back("device_mesh.placement");
  if (s.attention_softmax_exposed != 0 || sourced("attention.softmax_exposed")) {
    given.push_back("attention.softmax_exposed");
  }
  // The dtype list may carry a source (which weight formats the stack's kernels run, e.g.
  // w8a16); an unsourced list is the stack's own documentation.
  if (sourced("dtypes")) given.push_back("dtypes");
}

SoftwareStack parse(Params& f) {
  SoftwareStack s;
  std::vector<std::string> given;  // figures this file states
  s.name = f.str("name");
  s.display = f.str("display", s.name);
  f.str("description");
  parse_stack_kernels(f, s, given);
  parse_stack_host(f, s, given);
  parse_stack_attention(f, s, given);
  parse_stack_collective(f, s, given);
  parse_stack_policies(f, s);
  s.dtypes = string_list(f, "dtypes");
  if (s.dtypes.empty()) f.fail("dtypes", "list at least one dtype");
  for (const auto& d : s.dtypes) {
    const auto& known = known_dtypes();
    if (std::find(known.begin(), known.end(), d) == known.end()) f.fail("dtypes", "unknown dtype '" + d + "'");
  }
  YAML::Node src = f.get("sources");
  if (!src.IsMap()) f.fail("sources", "must be a map: figure -> source");
  for (auto kv : src) s.sources[kv.first.Scalar()] = as_string(kv.second, f.file_for("sources"), "sources." + kv.first.Scalar());
  note_changed_defaults(s, given);
  check_sources(f, s.sources, given);
  f.finish();
  s.resolved = f.resolved();
  return s;
}

}  // namespace

bool SoftwareStack::runs_dtype(const std::string& dtype) const {
  return std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end();
}

bool SoftwareStack::captured(std::size_t prefill_chunks, std::int64_t decode_sequences) const {
  // Graphs are captured per batch size up to a largest one; a larger batch has no graph.
  if (graph_max_batch > 0 && decode_sequences > graph_max_batch) return false;
  return graphs == "all" || (graphs == "decode" && prefill_chunks == 0);
}

double SoftwareStack::kv_pool_bytes(double capacity, double used, double share) const {
  if (kv_budget == "free") return (capacity - used) * share;
  return capacity * share - used;
}

Seconds SoftwareStack::host_time(std::int64_t sequences) const {
  return host_base + host_per_sequence * static_cast<double>(std::max<std::int64_t>(0, sequences));
}

Seconds SoftwareStack::launch_time(std::int64_t kernels, bool is_captured) const {
  return is_captured ? graph_launch : launch_overhead * static_cast<double>(std::max<std::int64_t>(0, kernels));
}

std::string default_software_dir() { return project_root() + "/topologies/software"; }

SoftwareStack load_software_file(const std::string& name_or_path, const SourcePos& from) {
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.compare(name_or_path.size() - 5, 5, ".yaml") == 0);
  const std::string path = is_path ? name_or_path : default_software_dir() + "/" + name_or_path + ".yaml";
  if (!is_regular_file(path)) {
    std::string known;
    for (const char* n :
         {"trt-llm", "vllm-cuda", "vllm-rocm", "sglang", "optimum-habana", "jax-tpu", "tt-metal", "groq", "sambaflow",
          "cerebras", "poplar", "megatron", "nemo", "llm-foundry", "deepspeed-habana"})
      known += (known.empty() ? "" : ", ") + std::string(n);
    throw InputError(from, "unknown software stack '" + name_or_path + "' (shipped: " + known + "; or a path to a stack file)");
  }
  Doc doc = load_doc(path);
  Params f("software", doc, "software");
  return parse(f);
}

SoftwareStack load_software_node(const YAML::Node& node, const std::string& file, const std::string& what) {
  Params f("software", node, file, what, clean_copy(node));
  return parse(f);
}

std::string default_software_for(const std::string& chip_name, const std::string& chip_family) {
  const std::string path = default_software_dir() + "/defaults.yaml";
  if (!is_regular_file(path)) return "";
  Doc doc = load_doc(path);
  Fields f(doc, "software defaults");
  for (const char* table : {"by_chip", "by_family"}) {
    YAML::Node t = f.get(table);
    if (!t.IsMap()) f.fail(table, "must be a map");
    const std::string& key = std::string(table) == "by_chip" ? chip_name : chip_family;
    if (YAML::Node v = t[key]) return as_string(v, path, std::string(table) + "." + key);
  }
  f.finish();
  return "";
}

}  // namespace llmsim
