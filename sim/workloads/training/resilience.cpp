// `checkpoint:` / `goodput:` of a training workload (resilience.h; docs/faults.md).
#include "sim/workloads/training/resilience.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "sim/core/params.h"
#include "sim/workloads/training/goodput.h"
#include "sim/workloads/training/memory.h"

namespace llmsim {
namespace {

constexpr double kSecondsPerDay = 86400;
constexpr double kMaxDays = 3650;

void parse_goodput(Params& g, GoodputConfig& gp) {
  gp.given = true;
  gp.days = g.num("days");
  if (!(gp.days > 0 && gp.days <= kMaxDays)) g.fail("days", "must be > 0 and at most 3650 days");
  gp.trials = g.positive("trials");
  if (gp.trials > 100000) g.fail("trials", "at most 100000 trials");
  Params r = g.child("failure_rates");
  double* rates[] = {&gp.gpu_per_s, &gp.link_per_s, &gp.host_per_s, &gp.switch_per_s};
  const char* keys[] = {"gpu", "link", "host", "switch"};
  for (int i = 0; i < 4; ++i) {
    const double per_hour = r.num(keys[i]);
    if (!(per_hour >= 0) || !std::isfinite(per_hour)) r.fail(keys[i], "must be a number of failures per hour >= 0, e.g. 2e-5");
    *rates[i] = per_hour / 3600;
  }
  r.finish();
  gp.search_interval = g.boolean("search_interval");
  g.finish();
}

int switch_count(const Topology& topo) {
  int n = 0;
  for (const auto& v : topo.vertices) n += v.kind == VertexInfo::Kind::Switch ? 1 : 0;
  return n;
}

// Device-switch attachments summed over switches (each device counted once per switch,
// however many parallel links join them): the devices a failure of every switch in turn
// takes down with it.
double switch_attached_devices(const Topology& topo) {
  std::set<std::pair<int, int>> pairs;  // (switch vertex, device vertex)
  for (const LinkInfo& l : topo.links) {
    const bool a_dev = topo.vertices[static_cast<std::size_t>(l.a)].kind == VertexInfo::Kind::Device;
    const bool b_dev = topo.vertices[static_cast<std::size_t>(l.b)].kind == VertexInfo::Kind::Device;
    if (a_dev != b_dev) pairs.insert(a_dev ? std::make_pair(l.b, l.a) : std::make_pair(l.a, l.b));
  }
  return static_cast<double>(pairs.size());
}

}  // namespace

void parse_resilience(const Doc& doc, const TrainingConfig& cfg, CheckpointConfig& ck, GoodputConfig& gp) {
  YAML::Node resolved = cfg.resolved;  // a handle: normalised values are written into it
  const YAML::Node root = doc.root;
  if (root["checkpoint"]) {
    Params c("workload:training.checkpoint", root["checkpoint"], doc.file_of("checkpoint"), "workload.checkpoint",
             resolved["checkpoint"]);
    ck.given = true;
    ck.interval_s = c.qty("interval");
    ck.write_bandwidth = c.qty("write_bandwidth");
    ck.restart_s = c.qty("restart");
    if (!(ck.interval_s > 0)) c.fail("interval", "must be a time > 0");
    if (!(ck.write_bandwidth > 0)) c.fail("write_bandwidth", "must be a bandwidth > 0");
    if (!(ck.restart_s >= 0)) c.fail("restart", "must be a time >= 0");
    c.finish();
  }
  if (root["goodput"]) {
    Params g("workload:training.goodput", root["goodput"], doc.file_of("goodput"), "workload.goodput", resolved["goodput"]);
    if (!ck.given) g.fail("days", "goodput needs `checkpoint: {interval, write_bandwidth, restart}` beside it");
    parse_goodput(g, gp);
  }
}

Bytes checkpoint_bytes(const TrainingConfig& c) {
  // training_memory's per-device weight and optimizer bytes, unsharded (ZeRO) and summed
  // over the stages' tp ranks: the whole model once.
  double bytes = 0;
  const double dp = static_cast<double>(c.par.dp);
  for (const StageMemory& m : training_memory(c)) {
    bytes += (m.weights * (c.par.zero >= 3 ? dp : 1.0) + m.optimizer * (c.par.zero >= 1 ? dp : 1.0)) *
             static_cast<double>(c.par.tp);
  }
  return bytes;
}

Seconds checkpoint_write_s(const TrainingConfig& c, const CheckpointConfig& ck) {
  return ck.write_bandwidth > 0 ? checkpoint_bytes(c) / ck.write_bandwidth : Seconds{0};
}

nlohmann::ordered_json failure_json(const CheckpointConfig& ck, int device, Seconds fail_s,
                                    const std::vector<double>& step_ends_s, const std::vector<double>& saved_s) {
  // The run starts from a checkpoint (t = 0); the executor writes one after each step that
  // crosses a multiple of the interval (a write the failure interrupted saved nothing).
  // Without `checkpoint:` nothing is saved, nothing restarts.
  double last = 0;
  std::int64_t done = 0;
  for (double e : step_ends_s) {
    if (e <= 0 || e > fail_s) break;  // a step the failure stopped has no end
    ++done;
  }
  for (double t : saved_s)
    if (t <= fail_s) last = std::max(last, t);
  const double restart = ck.given ? ck.restart_s : Seconds{0};
  nlohmann::ordered_json j;
  j["device"] = device;
  j["at_s"] = fail_s;
  j["steps_completed"] = done;
  j["last_checkpoint_s"] = last;
  j["lost_work_s"] = fail_s - last;
  j["restart_s"] = restart;
  j["time_lost_s"] = fail_s - last + restart;
  return j;
}

nlohmann::ordered_json goodput_json(const TrainingConfig& c, const CheckpointConfig& ck, const GoodputConfig& g,
                                    const Topology& topo, Seconds step_s) {
  const double gpus = topo.num_devices(), links = static_cast<double>(topo.links.size());
  const double hosts = topo.nodes, switches = switch_count(topo);
  GoodputInputs in;
  in.step_s = step_s;
  in.horizon_s = g.days * kSecondsPerDay;
  in.interval_s = ck.interval_s;
  in.checkpoint_s = checkpoint_write_s(c, ck);
  in.restart_s = ck.restart_s;
  in.failures_per_s = gpus * g.gpu_per_s + links * g.link_per_s + hosts * g.host_per_s + switches * g.switch_per_s;
  in.trials = static_cast<int>(g.trials);
  in.seed = c.seed;
  const GoodputResult r = simulate_goodput(in);
  const double mtbf = in.failures_per_s > 0 ? 1 / in.failures_per_s : 0;
  nlohmann::ordered_json j;
  j["days"] = g.days;
  j["trials"] = g.trials;
  j["components"] = {{"gpu", gpus}, {"link", links}, {"host", hosts}, {"switch", switches}};
  j["failures_per_day"] = in.failures_per_s * kSecondsPerDay;
  // Correlated failures: each failure is one interruption of the job however many devices
  // it takes down (a host its devices, a switch the devices linked to it, a link none).
  // Every device sits in one host, so host failures take down gpus x host rate per second.
  const double devices_per_s = gpus * (g.gpu_per_s + g.host_per_s) + switch_attached_devices(topo) * g.switch_per_s;
  j["devices_down_per_day"] = devices_per_s * kSecondsPerDay;
  j["mtbf_s"] = mtbf;
  j["step_s"] = step_s;
  j["checkpoint_bytes"] = checkpoint_bytes(c);
  j["checkpoint_write_s"] = in.checkpoint_s;
  j["restart_s"] = in.restart_s;
  j["interval_s"] = r.interval_s;
  j["mean"] = r.mean;
  j["p5"] = r.p5;
  j["p95"] = r.p95;
  j["failures_mean"] = r.failures;
  j["lost_work_s_mean"] = r.lost_work_s;
  j["restart_s_mean"] = r.restart_s;
  j["checkpoint_s_mean"] = r.checkpoint_s;
  if (mtbf > 0) j["young_daly_interval_s"] = std::sqrt(2 * in.checkpoint_s * mtbf);
  if (g.search_interval) {
    GoodputInputs best = in;
    best.interval_s = best_checkpoint_interval(in);
    const GoodputResult b = simulate_goodput(best);
    j["best_interval"] = {{"interval_s", b.interval_s}, {"mean", b.mean}, {"p5", b.p5}, {"p95", b.p95}};
  }
  return j;
}

}  // namespace llmsim
