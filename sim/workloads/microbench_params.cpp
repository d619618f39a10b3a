// `kind: microbench` parameters, declared once (sim/core/params.h). Each op has its own
// table (the fields an op accepts depend on the op); microbench.cpp reads them by name.
#include "sim/ops/op.h"
#include "sim/workloads/microbench.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kMicrobenchDoc = "docs/microbench.md";
const char* const kMicrobenchKind = "workload:microbench";

// `after` and `label` order ops into a graph ("Ops in parallel" in docs/microbench.md).
P after_decl() {
  return P::opt("after", T::List, "",
                "labels or 0-based positions of earlier ops this one waits for "
                "(default: the op before it; [] = start at 0)")
      .from(kMicrobenchDoc);
}
P label_decl() {
  return P::derive("label", T::String, "op", "name on the timeline, and for `after`").from(kMicrobenchDoc);
}

std::vector<P> common(bool dtype) {
  std::vector<P> v = {
      P::req("op", T::String, "operator name").from(kMicrobenchDoc),
      P::derive("repeat", T::Positive, "the workload's repeat", "runs back to back; the row is their mean")
          .from(kMicrobenchDoc),
      label_decl(),
      P::opt("device", T::String, "", "device name (\"\" = the first device)").from(kMicrobenchDoc),
      P::opt("stream", T::Choice, "compute", "device stream: compute, compute1, or copy (the copy engine, copy ops)")
          .one_of({"compute", "compute1", "copy"})
          .from(kMicrobenchDoc),
      after_decl(),
      P::opt("pattern", T::Map, "",
             "how the op's bytes hit its tier, e.g. {kind: random, granule: 4 KiB} "
             "(default sequential)")
          .nested("workload:microbench.ops[].pattern")
          .from(kMicrobenchDoc),
  };
  if (dtype) {
    v.push_back(P::opt("dtype", T::String, "auto", "auto (the chip's 16-bit type) or fp64 ... int4, w8a16")
                    .from(kMicrobenchDoc));
    v.push_back(
        P::opt("stream_tier", T::String, "", "tier operands stream from (\"\" = placement)").from(kMicrobenchDoc));
  }
  return v;
}

std::vector<P> with(std::vector<P> v, std::vector<P> more) {
  v.insert(v.end(), more.begin(), more.end());
  return v;
}

const std::vector<P> kRowsCols = {
    P::req("m", T::Positive, "rows (tokens)").from(kMicrobenchDoc),
    P::req("n", T::Positive, "columns (width, vocabulary)").from(kMicrobenchDoc),
};

}  // namespace

LLMSIM_DECLARE_PARAMS(mb_root,
                      {kMicrobenchKind,
                       "workload:microbench",
                       "Single operators, one after another",
                       {
                           P::req("kind", T::String, "microbench").from(kMicrobenchDoc),
                           P::opt("description", T::String, "", "free text").from(kMicrobenchDoc),
                           P::opt("repeat", T::Positive, "1", "default repeat of every op").from(kMicrobenchDoc),
                           P::req("ops", T::List,
                                  "operators, run in order unless `after` says otherwise (one table per op below)")
                               .from(kMicrobenchDoc),
                           P::opt("software", T::String, "",
                                  "software stack whose collective library the collectives run under "
                                  "and whose attention kernel the attention ops run "
                                  "(\"\" = the system's default stack's library; FA2's schedule for attention)")
                               .from(kMicrobenchDoc),
                           P::opt("events", T::List, "",
                                  "state changes at given times: {at, link, state | bandwidth} or "
                                  "{at, device, clock} (copied as given)")
                               .from(kMicrobenchDoc),
                       }});

// An op's access pattern (sim/ops/access_pattern.h): its tier's timing model says what it
// sustains (`model: dram` derives it from DRAM timing; the bandwidth model applies the
// tier's declared `paged_efficiency` / `random_efficiency`).
LLMSIM_DECLARE_PARAMS(
    mb_pattern,
    {kMicrobenchKind,
     "workload:microbench.ops[].pattern",
     "access pattern of an op's bytes",
     {
         P::opt("kind", T::Choice, "sequential", "sequential | paged (KV blocks of `granule` bytes) | random")
             .one_of({"sequential", "paged", "random"})
             .from(kMicrobenchDoc),
         P::opt("granule", T::Quantity, "64 B", "bytes per independent access, 1 B .. 1 MiB")
             .unit(Dim::Size)
             .from(kMicrobenchDoc),
         P::opt("read_fraction", T::Number, "1", "reads / (reads + writes), 0 .. 1").from(kMicrobenchDoc),
     }});

// What every item of `ops` has; the op's name picks its table below.
LLMSIM_DECLARE_PARAMS(
    mb_any, {kMicrobenchKind,
             "workload:microbench.ops[]",
             "",
             {
                 P::req("op", T::String,
                        "gemm attention copy elementwise activation norm softmax embedding rotary "
                        "sampling send recv, or a collective")
                     .from(kMicrobenchDoc),
                 P::derive("repeat", T::Positive, "the workload's repeat", "runs back to back").from(kMicrobenchDoc),
                 label_decl(),
                 after_decl(),
             }});

LLMSIM_DECLARE_PARAMS(
    mb_gemm, {kMicrobenchKind, "workload:microbench.ops[gemm]", "",
              with(common(true),
                   {
                       P::req("m", T::Positive, "rows of C").from(kMicrobenchDoc),
                       P::req("n", T::Positive, "columns of C").from(kMicrobenchDoc),
                       P::req("k", T::Positive, "reduction dimension").from(kMicrobenchDoc),
                       P::opt("batch", T::Positive, "1", "independent GEMMs (batched GEMM)").from(kMicrobenchDoc),
                       P::opt("weights_on_chip", T::Boolean, "false", "B already in on-chip memory (no weight traffic)")
                           .from(kMicrobenchDoc),
                   })});

LLMSIM_DECLARE_PARAMS(mb_attention,
                      {kMicrobenchKind, "workload:microbench.ops[attention]", "",
                       with(common(true),
                            {
                                P::opt("batch", T::Positive, "1", "sequences").from(kMicrobenchDoc),
                                P::req("heads", T::Positive, "query heads").from(kMicrobenchDoc),
                                P::derive("kv_heads", T::Positive, "heads", "KV heads (GQA)").from(kMicrobenchDoc),
                                P::opt("head_dim", T::Positive, "128", "head dimension").from(kMicrobenchDoc),
                                P::req("q_len", T::Positive, "queries per sequence").from(kMicrobenchDoc),
                                P::derive("kv_len", T::Positive, "q_len", "keys per sequence").from(kMicrobenchDoc),
                                P::opt("causal", T::Boolean, "true", "causal mask").from(kMicrobenchDoc),
                                P::derive("softmax", T::Choice, "the named stack's attention.softmax, else serialised",
                                          "softmax between the matrix phases (serialised, FA2) or under them "
                                          "(overlapped, FA3-class)")
                                    .one_of({"serialised", "overlapped"})
                                    .from(kMicrobenchDoc),
                                P::derive("softmax_exposed", T::Number,
                                          "the named stack's attention.softmax_exposed, else 0",
                                          "overlapped softmax: share of the shorter phase left exposed, 0 .. 1")
                                    .from(kMicrobenchDoc),
                                P::derive("mma", T::Choice, "the named stack's attention.mma, else native",
                                          "matrix instructions: native, or warp (the previous generation's, at the "
                                          "chip's compute.warp_mma_fraction)")
                                    .one_of({"native", "warp"})
                                    .from(kMicrobenchDoc),
                                P::derive("kv_cache", T::Choice,
                                          "the named stack's attention.kv_cache when q_len < kv_len, else contiguous",
                                          "K / V layout: paged (read at the KV tier's paged_efficiency) or contiguous")
                                    .one_of({"contiguous", "paged"})
                                    .from(kMicrobenchDoc),
                            })});

LLMSIM_DECLARE_PARAMS(mb_copy,
                      {kMicrobenchKind, "workload:microbench.ops[copy]", "",
                       with(common(false),
                            {
                                P::req("bytes", T::Quantity, "bytes moved").unit(Dim::Size).from(kMicrobenchDoc),
                                P::opt("from", T::String, "", "source tier (\"\" = main tier)").from(kMicrobenchDoc),
                                P::opt("to", T::String, "", "destination tier (\"\" = main tier)").from(kMicrobenchDoc),
                            })});

LLMSIM_DECLARE_PARAMS(
    mb_elementwise,
    {kMicrobenchKind, "workload:microbench.ops[elementwise]", "",
     with(common(true), {
                            P::req("elements", T::Positive, "values").from(kMicrobenchDoc),
                            P::opt("flops_per_element", T::Number, "1", "operations per value").from(kMicrobenchDoc),
                            P::opt("bytes", T::Quantity, "0 B", "bytes read + written (0 = by dtype)")
                                .unit(Dim::Size)
                                .from(kMicrobenchDoc),
                        })});

LLMSIM_DECLARE_PARAMS(mb_activation,
                      {kMicrobenchKind, "workload:microbench.ops[activation]", "",
                       with(common(true), {
                                              P::req("elements", T::Positive, "values").from(kMicrobenchDoc),
                                          })});

LLMSIM_DECLARE_PARAMS(mb_norm, {kMicrobenchKind, "workload:microbench.ops[norm]", "", with(common(true), kRowsCols)});
LLMSIM_DECLARE_PARAMS(mb_softmax,
                      {kMicrobenchKind, "workload:microbench.ops[softmax]", "", with(common(true), kRowsCols)});
LLMSIM_DECLARE_PARAMS(mb_embedding,
                      {kMicrobenchKind, "workload:microbench.ops[embedding]", "", with(common(true), kRowsCols)});
LLMSIM_DECLARE_PARAMS(mb_rotary,
                      {kMicrobenchKind, "workload:microbench.ops[rotary]", "", with(common(true), kRowsCols)});
LLMSIM_DECLARE_PARAMS(mb_sampling,
                      {kMicrobenchKind, "workload:microbench.ops[sampling]", "", with(common(true), kRowsCols)});

LLMSIM_DECLARE_PARAMS(
    mb_p2p, {kMicrobenchKind,
             "workload:microbench.ops[send|recv]",
             "",
             {
                 P::req("op", T::String, "send | recv").from(kMicrobenchDoc),
                 P::derive("repeat", T::Positive, "1", "ignored: a message is one message").from(kMicrobenchDoc),
                 label_decl(),
                 after_decl(),
                 P::req("bytes", T::Quantity, "message size").unit(Dim::Size).from(kMicrobenchDoc),
                 P::opt("tag", T::Integer, "0", "matches a send with its recv").from(kMicrobenchDoc),
                 P::req("from", T::String, "sending device").from(kMicrobenchDoc),
                 P::req("to", T::String, "receiving device").from(kMicrobenchDoc),
             }});

// Collective ops (parsed by the network model, microbench_collective.cpp).
LLMSIM_DECLARE_PARAMS(
    mb_collective,
    {kMicrobenchKind,
     "workload:microbench.ops[collective]",
     "allreduce allgather reducescatter alltoall broadcast reduce sendrecv",
     {
         P::req("op", T::String, "collective name").from(kMicrobenchDoc),
         P::derive("repeat", T::Positive, "the workload's repeat", "runs back to back").from(kMicrobenchDoc),
         label_decl(),
         after_decl(),
         P::opt("bytes", T::Quantity, "", "per-rank size (nccl-tests size); or `sizes`")
             .unit(Dim::Size)
             .from(kMicrobenchDoc),
         P::opt("sizes", T::List, "", "a sweep of sizes, one row each; or `bytes`")
             .unit(Dim::Size)
             .from(kMicrobenchDoc),
         P::opt("dtype", T::String, "fp32", "element type for the count column").from(kMicrobenchDoc),
         P::opt("algorithm", T::String, "auto", "collective algorithm (auto picks)").from(kMicrobenchDoc),
         P::opt("group", T::Any, "all", "`all` or a list of device names").from(kMicrobenchDoc),
         P::opt("root", T::String, "", "broadcast / reduce root (absent = the group's first device)")
             .from(kMicrobenchDoc),
         P::opt("from", T::String, "", "sendrecv: sender").from(kMicrobenchDoc),
         P::opt("to", T::String, "", "sendrecv: receiver").from(kMicrobenchDoc),
     }});

std::string microbench_op_section(const YAML::Node& item) {
  const YAML::Node& c = item;
  YAML::Node op = c["op"];
  std::string name = op && op.IsScalar() ? op.Scalar() : "";
  OpKind kind;
  if (name == "send" || name == "recv") return "workload:microbench.ops[send|recv]";
  if (is_collective_op(name)) return "workload:microbench.ops[collective]";
  if (op_kind_from_name(name, kind)) return "workload:microbench.ops[" + name + "]";
  return "workload:microbench.ops[]";  // unknown op: the loader names the known ones
}

}  // namespace llmsim
