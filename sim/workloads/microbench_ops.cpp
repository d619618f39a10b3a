// Parsers of microbench op entries (sim/workloads/microbench_ops.h).
#include "sim/workloads/microbench_ops.h"

#include <algorithm>
#include <cstdio>

namespace llmsim {

namespace {
std::string names_hint(const Topology& topo) {
  return topo.name + " has " + topo.vertices.front().name + " .. " +
         topo.vertices[static_cast<size_t>(topo.num_devices() - 1)].name;
}

AccessPattern parse_pattern(Params& op) {
  Params f = op.child("pattern");
  AccessPattern a;
  const std::string kind = f.choice("kind");
  a.kind = kind == "random"  ? AccessPattern::Kind::Random
           : kind == "paged" ? AccessPattern::Kind::Paged
                             : AccessPattern::Kind::Sequential;
  a.granule = f.qty("granule");
  if (!(a.granule >= 1 && a.granule <= 1024.0 * 1024)) f.fail("granule", "must be between 1 B and 1 MiB");
  a.read_fraction = f.num("read_fraction");
  if (!(a.read_fraction >= 0 && a.read_fraction <= 1)) f.fail("read_fraction", "must be between 0 and 1");
  f.finish();
  return a;
}

// The attention kernel's generation, each field defaulting to the named stack's: softmax
// overlapped with the matrix phases (FA3-class) or between them (FA2), the previous
// generation's warp-level MMA or the chip's native one, and a paged or contiguous KV cache
// (the stack's paged layout applies to an op that reads a cache longer than its queries,
// as serving's decode does). Without a stack: FA2's schedule on the native MMA, contiguous.
// Returns the non-default choices for the row's detail.
std::string parse_attention_kernel(Params& f, const SoftwareStack* stack, Op& op) {
  op.softmax_overlapped = f.choice("softmax", stack ? stack->attention_softmax : "serialised") == "overlapped";
  op.softmax_exposed = f.num("softmax_exposed", stack ? stack->attention_softmax_exposed : 0.0);
  if (!(op.softmax_exposed >= 0 && op.softmax_exposed <= 1)) f.fail("softmax_exposed", "must be between 0 and 1");
  op.warp_mma = f.choice("mma", stack ? stack->attention_mma : "native") == "warp";
  const bool reads_cache = op.q_len < op.kv_len;
  const std::string layout = stack && reads_cache ? stack->attention_kv_cache : "contiguous";
  op.kv_paged = f.choice("kv_cache", layout) == "paged";
  std::string d;
  if (op.softmax_overlapped) d += " overlapped";
  if (op.warp_mma) d += " warp-mma";
  if (op.kv_paged) d += " paged";
  return d;
}

}  // namespace

std::string all_op_names() {
  std::string s;
  for (const auto& n : op_kind_names()) s += (s.empty() ? "" : ", ") + n;
  for (const auto& n : collective_op_names()) s += ", " + n;
  return s + ", send, recv";
}

void parse_compute_op(Params& f, OpKind kind, MbOp& o, const SoftwareStack* stack) {
  Op& op = o.op;
  op.kind = kind;
  if (kind != OpKind::Copy) {
    op.dtype = f.str("dtype");
    const auto& k = known_dtypes();
    if (op.dtype != "auto" && std::find(k.begin(), k.end(), op.dtype) == k.end()) {
      std::string list = "auto";
      for (const auto& x : k) list += ", " + x;
      f.fail("dtype", "unknown dtype '" + op.dtype + "' (known: " + list + ")");
    }
  }
  char d[160] = "";
  std::string kernel;  // an attention op's non-default kernel choices
  switch (kind) {
    case OpKind::Gemm:
      op.m = f.positive("m");
      op.n = f.positive("n");
      op.k = f.positive("k");
      op.batch = f.positive("batch");
      op.weights_on_chip = f.boolean("weights_on_chip");
      std::snprintf(d, sizeof d, "m=%lld n=%lld k=%lld b=%lld", (long long)op.m, (long long)op.n, (long long)op.k,
                    (long long)op.batch);
      break;
    case OpKind::Attention:
      op.batch = f.positive("batch");
      op.heads = f.positive("heads");
      op.kv_heads = f.positive("kv_heads", op.heads);
      op.head_dim = f.positive("head_dim");
      op.q_len = f.positive("q_len");
      op.kv_len = f.positive("kv_len", op.q_len);
      op.causal = f.boolean("causal");
      kernel = parse_attention_kernel(f, stack, op);
      std::snprintf(d, sizeof d, "b=%lld h=%lld/%lld d=%lld q=%lld kv=%lld", (long long)op.batch,
                    (long long)op.heads, (long long)op.kv_heads, (long long)op.head_dim, (long long)op.q_len,
                    (long long)op.kv_len);
      break;
    case OpKind::Copy:
      op.bytes = f.qty("bytes");
      if (!(op.bytes > 0)) f.fail("bytes", "must be positive");
      op.from = f.str("from");
      op.to = f.str("to");
      std::snprintf(d, sizeof d, "%s %s->%s", format_quantity(op.bytes, Dim::Size).c_str(),
                    op.from.empty() ? "main" : op.from.c_str(), op.to.empty() ? "main" : op.to.c_str());
      break;
    case OpKind::Elementwise:
    case OpKind::Activation:
      op.elements = f.positive("elements");
      if (kind == OpKind::Elementwise) {
        op.flops_per_element = f.num("flops_per_element");
        if (op.flops_per_element < 0) f.fail("flops_per_element", "must be >= 0");
        op.bytes = f.qty("bytes");
      }
      std::snprintf(d, sizeof d, "elements=%lld", (long long)op.elements);
      break;
    default:
      op.m = f.positive("m");
      op.n = f.positive("n");
      std::snprintf(d, sizeof d, "m=%lld n=%lld", (long long)op.m, (long long)op.n);
  }
  if (kind != OpKind::Copy) op.stream_tier = f.str("stream_tier");
  op.pattern = parse_pattern(f);
  o.detail = d + kernel;
  if (!op.pattern.is_default())
    o.detail += std::string(" ") + op.pattern.kind_name() + " " + format_quantity(op.pattern.granule, Dim::Size);
}

std::string blame_key(const Fields& f, const std::string& msg) {  // plain reader: any key
  if (msg.find("dtype") != std::string::npos && f.has("dtype")) return "dtype";
  if (msg.find("tier") != std::string::npos) {
    for (const char* k : {"stream_tier", "from", "to"}) if (f.has(k)) return k;
  }
  for (const char* k : {"kv_heads", "heads", "q_len"}) {
    if (msg.find(k) != std::string::npos && f.has(k)) return k;
  }
  return "op";
}

void parse_p2p(Params& f, const Topology& topo, MbOp& o) {
  o.p2p.kind = o.name == "send" ? P2p::Send : P2p::Recv;
  o.repeat = 1;  // a message is one message; `repeat` does not apply
  o.p2p.pos = f.pos();
  o.p2p.bytes = f.qty("bytes");
  if (o.p2p.bytes <= 0) f.fail("bytes", "must be positive");
  o.p2p.tag = f.integer("tag");
  std::string from = f.str("from"), to = f.str("to");
  if (topo.num_devices() > 0) {
    o.p2p.from = topo.device_by_name(from);
    o.p2p.to = topo.device_by_name(to);
    if (o.p2p.from < 0) f.fail("from", "unknown device '" + from + "'; " + names_hint(topo));
    if (o.p2p.to < 0) f.fail("to", "unknown device '" + to + "'; " + names_hint(topo));
    if (o.p2p.from == o.p2p.to) f.fail("to", "a message needs two different devices");
  }
  o.detail = from + " -> " + to + " " + format_quantity(o.p2p.bytes, Dim::Size);
}


}  // namespace llmsim
