#include "sim/workloads/inference/config.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "sim/core/params.h"
#include "sim/core/paths.h"
#include "sim/ops/op.h"
#include "sim/software/workload_software.h"
#include "sim/workloads/inference/dataflow.h"

namespace llmsim {
namespace {

void check_dtype(Params& f, const std::string& key, const std::string& v) {
  const auto& d = known_dtypes();
  if (std::find(d.begin(), d.end(), v) == d.end()) {
    std::string list;
    for (const auto& x : d) list += (list.empty() ? "" : ", ") + x;
    f.fail(key, "unknown dtype '" + v + "' (known: " + list + ")");
  }
}

// The KV cache holds activations: a weight-only format's are 16-bit (int4's fp16, as
// before; w8a16's the 16-bit type its GEMMs run in); any other dtype is its own KV dtype.
std::string default_kv_dtype(const std::string& dtype, const Topology& topo) {
  if (dtype == "int4") return "fp16";
  if (!weight_only_format(dtype)) return dtype;
  return topo.num_devices() > 0 ? resolve_dtype("auto", *topo.device_chip[0]) : "bf16";
}

// A path reference made absolute, so a config.resolved.yaml elsewhere still finds the file;
// catalog names stay names (the test load_model_ref uses).
std::string absolute_if_path(const std::string& ref, const std::string& dir) {
  auto ends = [&](const char* e) { std::string x(e); return ref.size() > x.size() && ref.compare(ref.size() - x.size(), x.size(), x) == 0; };
  if (ref.empty() || (ref.find('/') == std::string::npos && !ends(".yaml") && !ends(".json"))) return ref;
  std::string a = real_path(ref[0] == '/' || dir.empty() ? ref : dir + "/" + ref);
  if (a.empty()) a = real_path(project_root() + "/" + ref);
  return a.empty() ? ref : a;
}

// parallelism.tp_rows / tp_cols (2-D tensor parallelism, docs/models.md): false when absent
// (the 1-D layout). Each axis must split what it shards evenly; MoE and MLA keep 1-D.
bool parse_tp_2d(Params& p, InferenceConfig& c) {
  c.tp_rows = p.integer("tp_rows");
  c.tp_cols = p.integer("tp_cols");
  c.decode_batch_sharded = p.choice("decode_attention") == "batch";
  if (c.tp_rows == 0 && c.tp_cols == 0) {
    if (c.decode_batch_sharded) {
      p.fail("decode_attention",
             "batch is modelled for 2-D tensor parallelism only (set tp_rows and tp_cols; "
             "tp_rows = tp, tp_cols = 1 is the one-axis layout)");
    }
    return false;
  }
  const ModelSpec& m = c.model;
  const auto str = [](std::int64_t v) { return std::to_string(v); };
  if (c.tp_rows <= 0 || c.tp_cols <= 0) {
    p.fail(c.tp_rows <= 0 ? "tp_rows" : "tp_cols", "2-D tensor parallelism needs tp_rows and tp_cols both >= 1");
  }
  if (c.tp_rows * c.tp_cols != c.tp) {
    p.fail("tp_rows", "tp_rows x tp_cols = " + str(c.tp_rows) + " x " + str(c.tp_cols) + " = " +
                          str(c.tp_rows * c.tp_cols) + " but tp is " + str(c.tp));
  }
  if (m.moe() || m.mla()) p.fail("tp_rows", "2-D tensor parallelism is modelled for dense, non-MLA models only");
  if (m.heads % c.tp_rows != 0 || m.ffn % c.tp_rows != 0) {
    p.fail("tp_rows", "tp_rows " + str(c.tp_rows) + " shards heads and FFN: it must divide num_attention_heads (" +
                          str(m.heads) + ") and intermediate_size (" + str(m.ffn) + ")");
  }
  if (m.hidden % c.tp_cols != 0) {
    p.fail("tp_cols", "tp_cols " + str(c.tp_cols) + " shards the hidden dimension: it must divide hidden_size (" +
                          str(m.hidden) + ")");
  }
  return true;
}

// parallelism.weights: gathered (docs/models.md "Weight-gathered layout"): whole layers on
// every chip, so a 1-D group of a dense, non-MLA model (MoE would gather every expert).
void parse_weights_gathered(Params& p, const Topology& topo, InferenceConfig& c, bool two_d) {
  c.weights_gathered = p.choice("weights") == "gathered";
  if (!c.weights_gathered) return;
  if (two_d) p.fail("weights", "gathered is modelled for a 1-D tp group only (leave tp_rows and tp_cols unset)");
  if (c.model.moe() || c.model.mla()) p.fail("weights", "gathered is modelled for dense, non-MLA models only");
  if (topo.num_devices() > 0 && execution_of(*topo.device_chip[0]).spatial()) {
    p.fail("weights", topo.device_chip[0]->name +
                          " maps layers onto regions of its cores (execution: spatial): "
                          "gathered is modelled for chips that run kernels");
  }
}

void parse_parallelism(Params& f, const Topology& topo, InferenceConfig& c) {
  Params p = f.child("parallelism");
  c.tp = p.positive("tp");
  c.pp = p.positive("pp");
  bool given = p.has("replicas");
  c.replicas = p.positive("replicas", 1);
  c.collective_algorithm = p.str("algorithm");
  c.engines = p.positive("pipeline_engines");
  if (c.engines > c.pp) p.fail("pipeline_engines", "at most pp (" + std::to_string(c.pp) + ") batches can be in flight");
  const ModelSpec& m = c.model;
  const bool two_d = parse_tp_2d(p, c);
  parse_weights_gathered(p, topo, c, two_d);
  // tp above the KV heads replicates them (each rank holds max(1, kv_heads / tp) [VLLM-SRC]);
  // MLA's one latent is held whole by every rank. Either side must divide the other.
  if (!m.mla() && m.kv_heads % c.tp_heads() != 0 && c.tp_heads() % m.kv_heads != 0) {
    p.fail(two_d ? "tp_rows" : "tp", (two_d ? "tp_rows " : "tp ") + std::to_string(c.tp_heads()) + " and the model's " +
                                         std::to_string(m.kv_heads) +
                                         " KV heads (num_key_value_heads) must divide one another");
  }
  if (!m.mla() && c.tp_heads() > m.kv_heads && !c.decode_batch_sharded) {  // batch-sharded: no replicas
    std::cerr << "llmsim: warning: " << p.pos(two_d ? "tp_rows" : "tp").str() << (two_d ? ": tp_rows " : ": tp ")
              << c.tp_heads() << " exceeds the model's " << m.kv_heads
              << " KV heads: each rank holds a replica of one KV head (as vLLM does), so KV per rank is 1 head x "
              << m.head_dim << " head_dim, and the replicas repeat it " << c.tp_heads() / m.kv_heads << " times\n";
  }
  if (!two_d && !c.weights_gathered &&
      (m.heads % c.tp != 0 || m.hidden % c.tp != 0)) {  // 2-D: parse_tp_2d checked its axes
    p.fail("tp", "tp " + std::to_string(c.tp) + " must divide num_attention_heads (" + std::to_string(m.heads) +
                     ") and hidden_size (" + std::to_string(m.hidden) + ")");
  }
  if (m.moe() && m.experts % c.tp != 0 && c.tp % m.experts != 0) {
    p.fail("tp", "experts (" + std::to_string(m.experts) + ") are spread over the tp group: tp must divide them");
  }
  if (c.pp > m.layers) {
    p.fail("pp", "pp " + std::to_string(c.pp) + " exceeds the model's " + std::to_string(m.layers) + " layers");
  }
  if (topo.num_devices() > 0) {
    std::int64_t per = c.tp * c.pp, n = topo.num_devices();
    if (!given) {
      if (n % per != 0) {
        p.fail("tp", "tp x pp = " + std::to_string(per) + " does not divide the topology's " + std::to_string(n) +
                         " devices (replicas = devices / (tp x pp))");
      }
      c.replicas = n / per;
    } else if (per * c.replicas != n) {
      p.fail("replicas", "tp x pp x replicas = " + std::to_string(per * c.replicas) + " but the topology has " +
                             std::to_string(n) + " devices");
    }
  }
  p.set_resolved("replicas", std::to_string(c.replicas));
  p.finish();
}

void parse_scheduler(Params& f, const Topology& topo, InferenceConfig& c) {
  Params s = f.child("scheduler");
  c.sched.max_batch = s.positive("max_batch");
  c.sched.max_batched_tokens = s.positive("max_batched_tokens");
  c.sched.chunked_prefill = s.boolean("chunked_prefill");
  c.sched.block_size = s.positive("block_size");
  c.sched.memory_utilization = s.num("memory_utilization");
  if (!(c.sched.memory_utilization > 0 && c.sched.memory_utilization <= 1)) {
    s.fail("memory_utilization", "must be in (0, 1]");
  }
  if (c.sched.max_batched_tokens < c.sched.max_batch) {
    // Every running sequence must be able to decode in each iteration (vLLM refuses the
    // same: max_num_batched_tokens >= max_num_seqs).
    s.fail("max_batched_tokens", "must be >= max_batch (" + std::to_string(c.sched.max_batch) + ")");
  }
  c.sched.max_context = s.integer("max_context");
  if (c.sched.max_context < 0) s.fail("max_context", "must be >= 0 (0 = the model's)");
  c.sched.prefix_caching = s.boolean("prefix_caching");
  c.sched.watermark = s.num("watermark");
  if (!(c.sched.watermark >= 0 && c.sched.watermark <= 0.5)) s.fail("watermark", "must be in [0, 0.5]");
  if (s.has("kv_offload")) {
    if (!c.sched.prefix_caching) s.fail("kv_offload", "offload tiers hold evicted prefix-cache blocks: set prefix_caching: true");
    Params o = s.child("kv_offload");
    c.sched.offload = parse_kv_offload(o, topo);
  }
  c.sched.swap_preemption = s.choice("preemption") == "swap";
  c.sched.swap_space = s.qty("swap_space");
  if (!(c.sched.swap_space >= 0)) s.fail("swap_space", "must be >= 0");
  if (c.sched.swap_preemption && topo.num_devices() > 0) {
    const ChipSpec& chip = *topo.device_chip[0];
    auto port = std::find_if(chip.ports.begin(), chip.ports.end(), [](const PortSpec& p) { return p.kind == "pcie"; });
    if (port == chip.ports.end())
      s.fail("preemption", "swap copies KV over PCIe, and " + chip.name + " lists no 'pcie' port");
    c.sched.swap_link_bandwidth = port->bandwidth;
  }
  s.finish();
}

// Prefix caching needs prefix keys whose hashed block is a whole number of KV blocks (a
// cache entry is then `hashed / block_size` KV blocks); prefix-affinity routing needs the cache.
void check_prefix_setup(const Doc& doc, InferenceConfig& c) {
  const bool mooncake = c.use_trace && c.trace.format == "mooncake";
  const std::int64_t hashed = mooncake ? kMooncakeBlockTokens : c.use_trace ? 0 : c.synthetic.prefix_block;
  const bool keyed = mooncake || (!c.use_trace && c.synthetic.prefix_tokens > 0);
  Fields f(doc, "workload");
  if (c.router == "prefix-affinity" && !c.sched.prefix_caching) {
    f.fail("router", "prefix-affinity routes by cached prefixes: set scheduler: {prefix_caching: true}");
  }
  if (!c.sched.prefix_caching) return;
  Fields s(f.opt("scheduler"), f.file_for("scheduler"), "workload.scheduler");
  if (!keyed) {
    s.fail("prefix_caching", "needs prefix-block keys: a trace with format: mooncake, or requests.shared_prefix");
  }
  if (hashed % c.sched.block_size != 0) {
    s.fail("block_size", "a hashed prompt block of " + std::to_string(hashed) +
                             " tokens must be a whole number of KV blocks of " + std::to_string(c.sched.block_size));
  }
  c.sched.prefix_block_tokens = hashed;
}

// The workload's `software:` (a name, a path or an inline map), else the system's default
// stack by chip (topologies/software/defaults.yaml). Checks the dtypes run natively.
void parse_software(Params& f, const Topology& topo, InferenceConfig& c) {
  if (f.has("software")) {
    c.software = read_workload_software(f);  // `none`: no host or launch costs (the device alone)
  } else if (topo.num_devices() > 0) {
    const ChipSpec& chip = *topo.device_chip[0];
    const std::string name = default_software_for(chip.name, chip.family);
    if (!name.empty()) c.software = load_software_file(name, f.pos());
  }
  if (c.software.name.empty()) return;
  for (const std::string* d : {&c.dtype, &c.kv_dtype}) {
    require_stack_dtype(f, c.software, *d, f.has("software") ? "software" : "dtype");
  }
}

}  // namespace

std::int64_t stage_layers(const InferenceConfig& c, std::int64_t s) { return pipeline_stage_layers(c.model.layers, c.pp, s); }

std::int64_t stage_first_layer(const InferenceConfig& c, std::int64_t s) {
  return pipeline_stage_first_layer(c.model.layers, c.pp, s);
}

namespace {

// `model:` (a catalog name or a file), resolved to an absolute path when it is a file.
void parse_served_model(Params& f, const Doc& doc, InferenceConfig& c) {
  std::string ref = f.str("model");
  c.model = load_model_ref(ref, f.pos("model"), doc.dir());
  if (c.model.encoder)
    f.fail("model", c.model.name +
                        " is an encoder (bidirectional, no autoregressive decoding): serving models decoders; train "
                        "it with kind: training");
  f.set_resolved("model", absolute_if_path(ref, doc.dir()));
}

// Splitwise / DistServe: the first prefill_replicas replicas only prefill; the KV cache
// then moves over the network to a decode replica.
void parse_disaggregation(Params& f, const Topology& topo, InferenceConfig& c) {
  if (!f.has("disaggregation")) return;
  Params g = f.child("disaggregation");
  c.prefill_replicas = g.positive("prefill_replicas");
  if (topo.num_devices() > 0 && c.prefill_replicas >= c.replicas) {
    g.fail("prefill_replicas", "must leave at least one decode replica (the topology gives " +
                                   std::to_string(c.replicas) + " replicas of tp x pp)");
  }
  g.finish();
}

void parse_slo(Params& f, InferenceConfig& c) {
  if (!f.has("slo")) return;
  Params g = f.child("slo");
  c.slo = true;
  for (const char* k : {"ttft", "tpot"}) {
    if (!g.has(k)) continue;
    double v = g.qty(k);
    if (!(v > 0)) g.fail(k, "must be > 0");
    (std::string(k) == "ttft" ? c.slo_ttft : c.slo_tpot) = v;
  }
  if (g.has("stop_below_attainment")) {
    c.slo_stop_attainment = g.num("stop_below_attainment");
    if (!(c.slo_stop_attainment > 0 && c.slo_stop_attainment <= 1))
      g.fail("stop_below_attainment", "must be in (0, 1]");
  }
  g.finish();
}

// Exactly one of `trace:` (a recorded trace) and `requests:` (synthetic arrivals).
void parse_request_source(Params& f, const Doc& doc, InferenceConfig& c) {
  bool has_trace = f.has("trace"), has_req = f.has("requests");
  if (has_trace == has_req) {
    throw InputError(f.pos(), "workload: give exactly one of 'trace:' (a recorded trace) or 'requests:' (synthetic)");
  }
  if (has_trace) {
    c.use_trace = true;
    Params t = f.child("trace");
    c.trace = parse_trace_options(t, doc);
  } else {
    Params r = f.child("requests");
    c.synthetic = parse_synthetic(r);
    c.seed = c.synthetic.seed;
  }
}

// The chip must run the dtypes (checked on a tiny op, positioned at the field).
void check_chip_runs_dtype(const Doc& doc, const Topology& topo, const InferenceConfig& c) {
  if (topo.num_devices() == 0) return;
  const ChipSpec& chip = *topo.device_chip[0];
  Op g;
  g.kind = OpKind::Gemm;
  g.dtype = c.dtype;
  g.m = g.n = g.k = 16;
  try {
    estimate_op(g, chip);
  } catch (const std::invalid_argument& e) {
    Fields again(doc, "workload");
    again.fail("dtype", chip.name + " cannot run dtype '" + c.dtype + "': " + e.what());
  }
}

}  // namespace

InferenceConfig parse_inference(const Doc& doc, const Topology& topo) {
  InferenceConfig c;
  Params f("workload:inference", doc, "workload");
  f.str("kind");
  f.str("name");
  f.str("description");
  parse_served_model(f, doc, c);
  c.dtype = f.str("dtype");
  check_dtype(f, "dtype", c.dtype);
  c.kv_dtype = f.str("kv_dtype", default_kv_dtype(c.dtype, topo));
  check_dtype(f, "kv_dtype", c.kv_dtype);
  parse_parallelism(f, topo, c);
  parse_scheduler(f, topo, c);
  parse_software(f, topo, c);
  if (c.sched.max_context == 0 || c.sched.max_context > c.model.max_context) c.sched.max_context = c.model.max_context;
  c.router = f.choice("router");
  c.router_load_cap = f.num("router_load_cap");
  if (!(c.router_load_cap >= 1) || c.router_load_cap > 1e6) f.fail("router_load_cap", "must be in [1, 1e6]");
  parse_disaggregation(f, topo, c);
  if (f.has("speculative")) {
    if (c.weights_gathered) f.fail("speculative", "is not modelled with parallelism.weights: gathered");
    Params g = f.child("speculative");
    c.spec = parse_speculative(g, doc.dir(), c.model, c.tp, c.pp);
    if (c.spec.draft_model()) g.set_resolved("draft", absolute_if_path(c.spec.draft_ref, doc.dir()));
  }
  parse_slo(f, c);
  parse_request_source(f, doc, c);
  f.finish();
  c.resolved = f.resolved();
  check_prefix_setup(doc, c);
  if (!c.software.name.empty()) c.resolved["software"] = c.software.resolved;
  check_chip_runs_dtype(doc, topo, c);
  return c;
}

}  // namespace llmsim
