#include "sim/net/runner.h"

#include <cmath>

#include "sim/core/error.h"

namespace llmsim {
namespace {
// Identical collectives recur every training step; their plans (and the routes their
// patterns resolved) are kept. The bound keeps sweeps of many sizes from growing it.
constexpr size_t kPlanCacheEntries = 64;
}  // namespace

struct CollectiveRunner::Run {
  CollectiveKind kind;
  std::vector<int> group;
  Bytes bytes = 0;
  std::string algorithm;
  std::shared_ptr<const Plan> plan;
  std::function<void(const CollectiveResult&)> done;
  size_t stage = 0;
  int step = 0;
  SimTime start = 0, stage_start = 0;
  std::map<std::string, SimTime> label_time;
};

CollectiveRunner::CollectiveRunner(const Topology& topo, EventQueue& queue, Recorder& recorder, FlowNet& flows)
    : topo_(topo), q_(queue), rec_(recorder), flows_(flows) {}

void CollectiveRunner::collective(CollectiveKind kind, const std::vector<int>& group, Bytes bytes, const std::string& algorithm,
                         std::function<void(const CollectiveResult&)> done, int root) {
  const Topology& topo = topo_;
  if (!(bytes > 0) || !std::isfinite(bytes))
    throw InputError({}, std::string(collective_name(kind)) + " size must be a positive number of bytes");
  auto run = std::make_shared<Run>();
  run->kind = kind;
  run->group = group;
  run->bytes = bytes;
  run->done = std::move(done);
  run->start = q_.now();
  // Validation, the auto choice and planning depend only on the request, and identical
  // requests recur every training step: do them once per distinct request.
  std::string key = algorithm + "|" + collective_name(kind) + "|" + std::to_string(root) + "|" +
                    std::to_string(bytes) + "|";
  for (int d : group) key += std::to_string(d) + ",";
  auto it = plans_.find(key);
  if (it == plans_.end()) {
    CollectiveRequest req{kind, group, bytes, root};
    std::string why = collective_unsupported(topo, req, algorithm);
    if (!why.empty()) throw InputError({}, why);
    if (components_.empty()) components_ = link_components(topo);  // the topology is static
    check_connected(topo, group, components_);
    auto plan = std::make_shared<Plan>();
    plan->algorithm = algorithm == "auto" ? choose_algorithm(topo, req) : algorithm;
    if (kind == CollectiveKind::SendRecv) plan->algorithm = "p2p";
    if (group.size() < 2) plan->algorithm = "none";
    if (plan->algorithm != "p2p" && plan->algorithm != "none") {
      std::string chosen = plan->algorithm;
      *plan = AlgorithmRegistry::get(chosen)->plan(topo, req);
      plan->algorithm = chosen;
    }
    if (plans_.size() >= kPlanCacheEntries) plans_.clear();
    it = plans_.emplace(key, plan).first;
  }
  run->algorithm = it->second->algorithm;
  if (run->algorithm == "p2p") {
    flows_.transfer(group[0], group[1], bytes, [this, run] { finish(run); });
    return;
  }
  if (run->algorithm == "none") {
    q_.at(q_.now(), [this, run] { finish(run); });
    return;
  }
  run->plan = it->second;
  if (run->plan->startup > 0) {
    // Set-up before any data moves (NVLS barrier): counted in the total, not in a label.
    q_.at(q_.now() + to_simtime(run->plan->startup), [this, run] {
      run->stage_start = q_.now();
      step(run);
    });
    return;
  }
  run->stage_start = q_.now();
  step(run);
}

void CollectiveRunner::step(const std::shared_ptr<Run>& run) {
  const auto& stages = run->plan->stages;
  while (run->stage < stages.size() && run->step >= stages[run->stage].steps) {
    // Stage over: account its time to its label and show it on every member's track.
    const Stage& st = stages[run->stage];
    run->label_time[st.label] += q_.now() - run->stage_start;
    if (rec_.on()) {
      std::string args = "{\"bytes_per_step\":" + std::to_string(static_cast<long long>(st.bytes)) +
                         ",\"steps\":" + std::to_string(st.steps) + "}";
      std::string name = std::string(collective_name(run->kind)) + " " + run->algorithm;
      if (st.label != run->algorithm) name += " " + st.label;
      for (int d : run->group) rec_.span(device_track(d), name, "collective", run->stage_start, q_.now(), args);
    }
    ++run->stage;
    run->step = 0;
    run->stage_start = q_.now();
  }
  if (run->stage >= stages.size()) {
    finish(run);
    return;
  }
  const Stage& st = stages[run->stage];
  ++run->step;
  flows_.phase(st.pattern, st.bytes, [this, run] { step(run); });
}

void CollectiveRunner::finish(const std::shared_ptr<Run>& run) {
  CollectiveResult r;
  r.algorithm = run->algorithm;
  r.time = to_seconds(q_.now() - run->start);
  int n = static_cast<int>(run->group.size());
  if (r.time > 0) {
    r.algbw = run->bytes / r.time;
    r.busbw = r.algbw * busbw_factor(run->kind, n);
  }
  if (run->plan) {
    for (const auto& d : run->plan->dims) {
      CollectiveResult::Dim out;
      out.label = d.label;
      out.time = to_seconds(run->label_time[d.label]);
      if (out.time > 0) out.busbw = busbw_factor(run->kind, d.ranks) * d.bytes / out.time;
      r.dims.push_back(out);
    }
  }
  if (run->done) run->done(r);
}

void CollectiveRunner::create_tracks() {
  for (int d = 0; d < topo_.num_devices(); ++d) device_track(d);
}

int CollectiveRunner::device_track(int device) {
  if (device_tracks_.empty()) device_tracks_.assign(static_cast<size_t>(topo_.num_devices()), -1);
  int& t = device_tracks_[static_cast<size_t>(device)];
  if (t < 0) t = rec_.track(topo_.vertices[static_cast<size_t>(device)].name, "collective", 100);
  return t;
}

CollectiveResult run_collective(const Topology& topo, CollectiveKind kind, const std::vector<int>& group, Bytes bytes,
                                const std::string& algorithm, bool fast_path, int root, FlowNet::Stats* stats,
                                std::uint64_t* events) {
  EventQueue q;
  Recorder rec;
  FlowNet net(topo, q, rec);
  net.set_fast_path(fast_path);
  CollectiveRunner runner(topo, q, rec, net);
  CollectiveResult out;
  bool finished = false;
  runner.collective(kind, group, bytes, algorithm, [&](const CollectiveResult& r) {
    out = r;
    finished = true;
  }, root);
  q.run();
  if (!finished) throw std::logic_error("collective did not complete");
  if (stats) *stats = net.stats();
  if (events) *events = q.events_run();
  return out;
}

}  // namespace llmsim
