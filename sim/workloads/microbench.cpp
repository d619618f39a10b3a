// `kind: microbench` (CONTRACT "File shapes"): parse the ops list, run each op `repeat`
// times back to back on its device, report one summary row per op.
#include "sim/workloads/microbench.h"
#include "sim/workloads/microbench_ops.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <ostream>
#include <stdexcept>

#include "models/device.h"
#include "models/network.h"
#include "sim/engine/op_graph.h"
#include "sim/engine/simulation.h"
#include "sim/engine/state_events.h"
#include "sim/engine/workload.h"
#include "sim/ops/op.h"
#include "sim/software/stack.h"

namespace llmsim {

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

class Microbench : public Workload {
 public:
  void load(const Doc& doc, const Topology& topo, ChipCatalog& catalog) override {
    (void)catalog;
    Params root("workload:microbench", doc, "workload");
    root.str("kind");
    root.str("description");
    std::int64_t repeat = root.positive("repeat");
    // A named stack brings its collective library (run.cpp installs it) and its attention
    // kernel's generation; "" = the default.
    const std::string stack = root.str("software");
    if (!stack.empty()) software_ = load_software_file(stack, root.pos("software"));
    YAML::Node ops = root.get("ops");
    std::string file = root.file_for("ops");
    if (!ops.IsSequence() || ops.size() == 0) root.fail("ops", "must be a non-empty list of operators");
    for (std::size_t i = 0; i < ops.size(); ++i) {
      std::string what = "workload.ops[" + std::to_string(i) + "]";
      if (!ops[i].IsMap()) throw InputError(pos_of(ops[i], file), what + ": must be a map like {op: gemm, m: 8192, ...}");
      Params f(microbench_op_section(ops[i]), ops[i], file, what, root.resolved()["ops"][i]);
      MbOp o;
      o.name = f.str("op");
      o.label = f.str("label", o.name);
      o.repeat = f.positive("repeat", repeat);
      o.after = parse_after(f, i);
      OpKind kind;
      const bool p2p = o.name == "send" || o.name == "recv" || o.name == "sendrecv";
      if (f.fields().has("device") && (p2p || is_collective_op(o.name))) {
        f.fail("device", o.name + " names its devices with " + (p2p ? "`from` and `to`" : "`group` (default all)") +
                             ", not `device`");
      }
      if (o.name == "send" || o.name == "recv") {
        parse_p2p(f, topo, o);
      } else if (is_collective_op(o.name)) {
        o.collective = true;
        o.coll = parse_collective_op(o.name, f, topo);
        o.coll.pos = f.pos();
        o.coll.op = o.name;
      } else if (op_kind_from_name(o.name, kind)) {
        o.op.name = o.label;
        o.stream = f.choice("stream");
        if (o.stream == "copy" && kind != OpKind::Copy) f.fail("stream", "the copy engine runs only copy ops");
        parse_compute_op(f, kind, o, software_.name.empty() ? nullptr : &software_);
        std::string dev = f.str("device");
        if (topo.num_devices() > 0) {
          if (!dev.empty()) {
            o.device = topo.device_by_name(dev);
            if (o.device < 0) {
              std::vector<std::string> names;
              for (int d = 0; d < topo.num_devices(); ++d) names.push_back(topo.vertices[static_cast<size_t>(d)].name);
              std::string near = nearest(dev, names);
              f.fail("device", "unknown device '" + dev + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                                   "; " + topo.name + " has " + names.front() + " .. " + names.back());
            }
          }
          // The op must run on that device's chip: unsupported dtype, missing tier, ...
          const ChipSpec& chip = *topo.device_chip[static_cast<size_t>(o.device)];
          try {
            estimate_op(o.op, chip);
          } catch (const std::invalid_argument& e) {
            std::string key = blame_key(f.fields(), e.what());
            throw InputError(f.pos(key), what + " (" + o.name + " on " + chip.name + "): " + e.what());
          }
        }
      } else {
        f.fail("op", "unknown op '" + o.name + "' (known: " + all_op_names() + ")");
      }
      f.finish();
      if (o.collective && o.coll.sizes.size() > 1) {  // a `sizes:` sweep: one row per size
        for (std::size_t k = 0; k < o.coll.sizes.size(); ++k) {
          MbOp c = o;
          c.coll.bytes = o.coll.sizes[k];
          if (k > 0) c.after = {static_cast<int>(ops_.size()) - 1};  // the sizes run in turn
          ops_.push_back(std::move(c));
        }
      } else {
        ops_.push_back(std::move(o));
      }
      last_of_written_.push_back(static_cast<int>(ops_.size()) - 1);
      labels_.push_back(ops_.back().label);
    }
    events_ = parse_events(root.fields(), topo);  // `events:` (sim/engine/state_events.cpp)
    root.finish();
    resolved_ = root.resolved();
  }

  YAML::Node resolved() const override { return resolved_; }
  const SoftwareStack* software() const override { return software_.name.empty() ? nullptr : &software_; }

  void start(Simulation& sim) override {
    sim_ = &sim;
    schedule_events(sim, events_);
    results_.resize(ops_.size());
    state_.assign(ops_.size(), NodeState{});
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      graph_.add([this, i](OpGraph::Done done) { launch(i, std::move(done)); }, ops_[i].after);
    }
    graph_.start();
  }

  void report(Simulation& sim, Json& summary) override {
    Json rows = Json::array();
    for (std::size_t i = 0; i < results_.size(); ++i) {
      if (!state_[i].finished) continue;
      const MicrobenchResult& r = results_[i];
      Json j;
      j["op"] = r.op;
      j["device"] = r.device;
      j["dtype"] = r.dtype;
      j["time_s"] = r.time;
      j["tflops"] = r.time > 0 ? (r.flops / r.time).value() / 1e12 : 0.0;
      j["bytes_per_s"] = r.time > 0 ? (r.bytes / r.time).value() : 0.0;
      double algbw = r.time > 0 ? (r.size / r.time).value() : 0.0;
      j["algbw_bytes_per_s"] = algbw;
      j["busbw_bytes_per_s"] = r.busbw > 0 ? r.busbw.value() : algbw;
      j["waves"] = r.waves;
      j["tiles"] = r.tiles;
      j["achieved_fraction_of_peak"] = fraction_of_peak(r);
      j["memory_bound"] = r.memory_bound;
      j["flops"] = r.flops;
      j["bytes"] = r.bytes;
      j["repeat"] = ops_[i].repeat;
      j["dynamic_energy_j"] = r.energy;
      if (!r.algorithm.empty()) j["algorithm"] = r.algorithm;
      if (!r.protocol.empty()) j["protocol"] = r.protocol;
      for (const auto& kv : r.extra) j[kv.first] = kv.second;
      rows.push_back(j);
    }
    Seconds t = to_seconds(sim.now());
    const Joules e = sim.devices_energy();
    summary["energy_j"] = e;
    summary["avg_power_w"] = t > 0 ? e / t : Watts{0};
    summary["microbench"] = rows;
  }

  void print(Simulation& sim, std::ostream& os) override {
    (void)sim;
    bool header = false;
    for (std::size_t i = 0; i < results_.size(); ++i) {
      if (!state_[i].finished) continue;
      const MicrobenchResult& r = results_[i];
      if (!r.table_line.empty()) {
        if (!header) os << collective_table_header();
        header = true;
        os << r.table_line;
        continue;
      }
      std::string rate = r.flops > 0 && !r.memory_bound ? fmt("%9.1f TFLOPS", (r.flops / r.time).value() / 1e12)
                                                        : fmt("%9.3f TB/s  ", r.bytes / r.time / 1e12);
      char line[320];
      std::snprintf(line, sizeof line, "%-12s %-8s %-36s %12s %s  %5.1f%% of peak  waves %lld\n", r.op.c_str(),
                    r.device.c_str(), r.detail.c_str(), format_quantity(r.time, Dim::Time).c_str(), rate.c_str(),
                    100 * fraction_of_peak(r), static_cast<long long>(r.waves));
      os << line;
    }
  }

  static double fraction_of_peak(const MicrobenchResult& r) {
    if (r.time <= 0) return 0;
    if (!r.memory_bound && r.flops > 0 && r.peak_flops > 0) return r.flops / r.time / r.peak_flops;
    return r.peak_bytes_per_s > 0 ? r.bytes / r.time / r.peak_bytes_per_s : 0.0;
  }

  // The watchdog's question: the queue drained; what still waits?
  std::vector<std::string> waiting(Simulation& sim) override {
    (void)sim;
    std::vector<std::string> out;
    for (int i : graph_.running()) {
      const MbOp& o = ops_[static_cast<std::size_t>(i)];
      if (o.p2p.kind == P2p::Recv) {
        out.push_back("recv on " + device_name(o.p2p.to) + " from " + device_name(o.p2p.from) + " (" +
                      format_quantity(o.p2p.bytes, Dim::Size) + ", tag " + std::to_string(o.p2p.tag) + ") at " +
                      o.p2p.pos.str() + ": no matching send was posted");
      } else {
        out.push_back("ops[" + std::to_string(i) + "] (" + o.name + ") never completed");
      }
    }
    return out;
  }

 private:
  std::string device_name(int d) const { return sim_->device(d).label(); }

  // `after:` lists labels or 0-based positions of earlier entries of `ops:`; without it an
  // op waits for the entry before it (ops run one after another); `after: []` starts at 0.
  std::vector<int> parse_after(Params& f, std::size_t written) {
    if (!f.has("after")) {
      if (written == 0) return {};
      return {last_of_written_[written - 1]};
    }
    YAML::Node list = f.get("after");
    if (!list.IsSequence()) f.fail("after", "must be a list of earlier ops' labels or positions, e.g. [0, gemm]");
    std::vector<int> deps;
    for (const auto& item : list) {
      std::string what = "after";
      std::string v = as_string(item, f.file(), what);
      int dep = -1;
      if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos && v.size() < 9) {
        std::size_t w = std::stoul(v);
        if (w < written) dep = last_of_written_[w];
      } else {
        for (std::size_t w = written; w-- > 0;) {
          if (labels_[w] == v) {
            dep = last_of_written_[w];
            break;
          }
        }
      }
      if (dep < 0) {
        throw InputError(pos_of(item, f.file()), "after: '" + v + "' is not the label or position of an earlier op" +
                                                     " (ops can only wait for ops listed before them)");
      }
      deps.push_back(dep);
    }
    return deps;
  }

  // Runs ops_[i] `repeat` times back to back, then reports to the graph.
  void launch(std::size_t i, OpGraph::Done done) {
    const MbOp& o = ops_[i];
    NodeState& st = state_[i];
    st.left = o.repeat;
    st.started = sim_->now();
    st.done = std::move(done);
    if (o.p2p.kind != P2p::None) return run_p2p(i);
    if (o.collective) return run_collective(i);
    Device& dev = sim_->device(o.device);
    ComputeCore& stream = *dev.stream(o.stream);
    stream.set_wave_spans(true);
    const OpCost cost = estimate_op(o.op, dev.chip());  // validated at load; for the report row
    MicrobenchResult& r = results_[i];
    r.op = o.name;
    r.device = dev.label();
    r.detail = o.detail + (cost.dtype.empty() ? "" : " " + cost.dtype);
    r.dtype = cost.dtype;
    r.time = cost.time;
    r.flops = cost.flops;
    r.bytes = cost.bytes;
    r.size = o.op.kind == OpKind::Copy ? o.op.bytes : cost.bytes;
    r.tiles = cost.tiles;
    r.waves = cost.waves;
    r.peak_flops = cost.peak;
    r.peak_bytes_per_s = cost.peak_bandwidth;
    r.memory_bound = cost.memory_bound;
    r.energy = cost.energy;
    submit_one(i, stream);
  }

  void submit_one(std::size_t i, ComputeCore& stream) {
    // Each repetition is estimated again (no cached cost), so `repeat` measures the
    // simulator's per-operator cost honestly (scripts/bench ops).
    // Ordered by op index: ops reaching one stream at one instant from different events
    // (one's repeat, another's dependency met) queue the same under --debug-tie-shuffle.
    stream.submit_ordered(ops_[i].op, static_cast<std::int64_t>(i), [this, i, &stream](const OpCost&) {
      if (--state_[i].left > 0) {
        submit_one(i, stream);
        return;
      }
      finish_op(i);
    });
  }

  void run_p2p(std::size_t i) {
    const MbOp& o = ops_[i];
    MicrobenchResult& r = results_[i];
    r.op = o.name;
    r.device = device_name(o.p2p.kind == P2p::Send ? o.p2p.from : o.p2p.to);
    r.detail = o.detail;
    r.size = r.bytes = o.p2p.bytes;
    if (o.p2p.kind == P2p::Send) {
      P2p msg = o.p2p;
      sim_->network().transfer(msg.from, msg.to, msg.bytes, [this, i, msg] {
        deliver(msg);
        finish_op(i);
      });
      return;
    }
    for (auto it = arrived_.begin(); it != arrived_.end(); ++it) {
      if (matches(*it, o.p2p)) {
        arrived_.erase(it);
        finish_op(i);
        return;
      }
    }
    posted_.push_back(i);  // blocked until a matching message arrives (or forever: deadlock)
  }

  static bool matches(const P2p& msg, const P2p& recv) {
    return msg.from == recv.from && msg.to == recv.to && msg.tag == recv.tag;
  }

  // A message arrived: the oldest posted matching recv takes it, else it waits.
  void deliver(const P2p& msg) {
    for (auto it = posted_.begin(); it != posted_.end(); ++it) {
      if (matches(msg, ops_[*it].p2p)) {
        std::size_t r = *it;
        posted_.erase(it);
        finish_op(r);
        return;
      }
    }
    arrived_.push_back(msg);
  }

  void run_collective(std::size_t i) {
    const MbOp& o = ops_[i];
    run_collective_op(*sim_, o.coll, [this, i](const MicrobenchResult& one) {
      MicrobenchResult& r = results_[i];
      r = one;
      if (r.op.empty()) r.op = ops_[i].name;
      if (--state_[i].left > 0) {
        run_collective(i);
        return;
      }
      finish_op(i);
    });
  }

  // Mean time per repetition, from wall-clock sim time so queueing is included.
  void finish_op(std::size_t i) {
    NodeState& st = state_[i];
    results_[i].time = to_seconds(sim_->now() - st.started) / static_cast<double>(ops_[i].repeat);
    st.finished = true;
    OpGraph::Done done = std::move(st.done);
    if (done) done();
  }

  struct NodeState {
    std::int64_t left = 0;
    SimTime started = 0;
    bool finished = false;
    OpGraph::Done done;
  };

  std::vector<MbOp> ops_;
  std::vector<TimedEvent> events_;
  YAML::Node resolved_;  // the document as loaded (config.resolved.yaml)
  SoftwareStack software_;            // `software:`, when named: collective library, attention kernel
  std::vector<int> last_of_written_;  // per entry of `ops:` as written: its last index in ops_
  std::vector<std::string> labels_;   // per entry of `ops:` as written
  std::vector<P2p> arrived_;          // sent messages not yet received, in arrival order
  std::vector<std::size_t> posted_;   // recvs waiting for their message, in posting order
  std::vector<MicrobenchResult> results_;
  std::vector<NodeState> state_;
  OpGraph graph_;
  Simulation* sim_ = nullptr;
};

}  // namespace

bool is_collective_op(const std::string& op) {
  const auto& n = collective_op_names();
  return std::find(n.begin(), n.end(), op) != n.end();
}

const std::vector<std::string>& collective_op_names() {
  static const std::vector<std::string> n = {"allreduce", "allgather", "reducescatter", "alltoall", "broadcast", "reduce", "sendrecv"};
  return n;
}

LLMSIM_REGISTER_WORKLOAD(Microbench, "microbench");

}  // namespace llmsim
