// The ops of a `kind: microbench` workload as loaded (sim/workloads/microbench.cpp runs
// them): what each entry of `ops:` becomes, and the parsers of its fields.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/ops/op.h"
#include "sim/software/stack.h"
#include "sim/topo/topology.h"
#include "sim/workloads/microbench.h"

namespace llmsim {

// Point-to-point ops with MPI-like semantics on the microbench's one timeline: `send` is
// eager (it runs the transfer and completes when the bytes have arrived in the receiver's
// buffer); `recv` blocks until a matching (from, to, tag) message has arrived. A `recv`
// with no send before it can never complete: the deliberate deadlock the watchdog names.
struct P2p {
  enum Kind { None, Send, Recv } kind = None;
  int from = -1, to = -1;
  Bytes bytes = 0;
  std::int64_t tag = 0;
  SourcePos pos;
};

struct MbOp {
  std::string label;
  std::string stream = "compute";  // compute ops: the device stream they run on
  std::vector<int> after;          // indices into ops_ this op waits for
  bool collective = false;
  P2p p2p;
  Op op;
  CollectiveOpSpec coll;
  int device = 0;
  std::int64_t repeat = 1;
  std::string name, detail;
};

// "gemm, attention, ..., send, recv": every op name, for messages.
std::string all_op_names();
// Reads the fields of a compute/memory op into `o.op`; positions come from `f`. `stack`
// (the workload's named software stack, or nullptr) gives an attention op's kernel
// generation unless the op says otherwise.
void parse_compute_op(Params& f, OpKind kind, MbOp& o, const SoftwareStack* stack);
// Key whose position best explains an estimate_op failure.
std::string blame_key(const Fields& f, const std::string& msg);
// `send` / `recv`: devices, size, tag.
void parse_p2p(Params& f, const Topology& topo, MbOp& o);

}  // namespace llmsim
