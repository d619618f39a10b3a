#include "sim/net/runner.h"

#include <algorithm>
#include <cmath>

#include "sim/core/error.h"

namespace llmsim {
namespace {
// Identical collectives recur every training step; their plans (and the routes their
// patterns resolved) are kept. The bound keeps sweeps of many sizes from growing it.
// (Not raised for serving's thousands of sizes: link statistics fold per live pattern, so
// the bound decides their floating-point rounding; see docs/performance.md.)
constexpr size_t kPlanCacheEntries = 64;
// Choices are names, not plans: many more fit.
constexpr size_t kAutoChoiceEntries = 8192;
}  // namespace

struct CollectiveRunner::Run {
  CollectiveKind kind;
  std::vector<int> group;
  Bytes bytes = 0;
  std::string algorithm;
  std::shared_ptr<const Plan> plan;
  std::function<void(const CollectiveResult&)> done;
  // Pipeline lanes (Plan::lanes): each runs every stage on 1/lanes of the data; lane i
  // enters a stage once lane i-1 has left it, so different stages overlap across lanes.
  struct Lane {
    size_t stage = 0;
    int step = 0;
    SimTime stage_start = 0;
    bool waiting = false;
  };
  std::vector<Lane> lanes;
  std::vector<int> left_stage;  // per stage: how many lanes have finished it
  int lanes_done = 0;
  SimTime start = 0;
  std::map<std::string, SimTime> label_time;  // summed over lanes
};

CollectiveRunner::CollectiveRunner(const Topology& topo, EventQueue& queue, Recorder& recorder, FlowNet& flows)
    : topo_(topo), q_(queue), rec_(recorder), flows_(flows) {}

std::shared_ptr<const Plan> CollectiveRunner::resolve(CollectiveKind kind, const std::vector<int>& group, Bytes bytes,
                                                      const std::string& algorithm, int root) {
  const Topology& topo = topo_;
  if (!(bytes > 0) || !std::isfinite(bytes))
    throw InputError({}, std::string(collective_name(kind)) + " size must be a positive number of bytes");
  // Validation, the auto choice and planning depend only on the request, and identical
  // requests recur every training step: do them once per distinct request.
  // The key is the request's raw bytes: formatting numbers cost more than the look-up.
  std::string key = algorithm;
  key.push_back('\0');
  auto put = [&key](const void* p, std::size_t n) { key.append(static_cast<const char*>(p), n); };
  const int kind_id = static_cast<int>(kind);
  put(&kind_id, sizeof kind_id);
  put(&root, sizeof root);
  put(&bytes, sizeof bytes);
  put(group.data(), group.size() * sizeof(int));
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;
  CollectiveRequest req{kind, group, bytes, root, library_.get()};
  auto known = algorithm == "auto" ? auto_choice_.find(key) : auto_choice_.end();
  if (known == auto_choice_.end()) {  // not validated before
    std::string why = collective_unsupported(topo, req, algorithm);
    if (!why.empty()) throw InputError({}, why);
    if (components_.empty()) components_ = link_components(topo);  // as built; links down: below
    check_connected(topo, group, components_);
  }
  auto plan = std::make_shared<Plan>();
  if (algorithm != "auto") {
    plan->algorithm = algorithm;
  } else if (known != auto_choice_.end()) {
    plan->algorithm = known->second;
  } else {
    plan->algorithm = choose_algorithm(topo, req);
    if (auto_choice_.size() >= kAutoChoiceEntries) auto_choice_.clear();
    auto_choice_.emplace(key, plan->algorithm);
  }
  if (kind == CollectiveKind::SendRecv) plan->algorithm = "p2p";
  if (group.size() < 2) plan->algorithm = "none";
  if (plan->algorithm != "p2p" && plan->algorithm != "none") *plan = plan_for(topo, req, plan->algorithm);
  if (plans_.size() >= kPlanCacheEntries) plans_.clear();
  return plans_.emplace(key, plan).first->second;
}

void CollectiveRunner::collective(CollectiveKind kind, const std::vector<int>& group, Bytes bytes,
                                  const std::string& algorithm, std::function<void(const CollectiveResult&)> done,
                                  int root) {
  auto plan = resolve(kind, group, bytes, algorithm, root);
  auto run = std::make_shared<Run>();
  run->kind = kind;
  run->group = group;
  run->bytes = bytes;
  run->done = std::move(done);
  run->start = q_.now();
  if (flows_.links_down() > 0) check_cut(group);
  run->algorithm = plan->algorithm;
  if (run->algorithm == "p2p") {
    flows_.transfer(group[0], group[1], bytes, [this, run] { finish(run); });
    return;
  }
  if (run->algorithm == "none") {
    q_.at(q_.now(), [this, run] { finish(run); });
    return;
  }
  run->plan = plan;
  if (run->plan->startup > 0) {
    // Set-up before any data moves (NVLS barrier): counted in the total, not in a label.
    q_.at(time_add(q_.now(), to_simtime(run->plan->startup)), [this, run] {
      begin(run);
    });
    return;
  }
  begin(run);
}

void CollectiveRunner::check_cut(const std::vector<int>& group) {
  if (cut_epoch_ != flows_.epoch() || cut_components_.empty()) {
    cut_components_ = link_components(topo_, flows_.down_mask());
    cut_epoch_ = flows_.epoch();
  }
  try {
    check_connected(topo_, group, cut_components_);
  } catch (const InfeasibleError& e) {
    throw InfeasibleError(std::string(e.what()) + " at " + format_quantity(to_seconds(q_.now()), Dim::Time) +
                          ": links down " + flows_.down_links_text());
  }
}

void CollectiveRunner::begin(const std::shared_ptr<Run>& run) {
  int lanes = std::max(1, run->plan->lanes);
  run->lanes.assign(static_cast<size_t>(lanes), Run::Lane{});
  run->left_stage.assign(run->plan->stages.size(), 0);
  for (auto& l : run->lanes) l.stage_start = q_.now();
  for (int i = 0; i < lanes; ++i) step(run, i);
}

void CollectiveRunner::step(const std::shared_ptr<Run>& run, int lane) {
  const auto& stages = run->plan->stages;
  const double share = 1.0 / static_cast<double>(run->lanes.size());
  Run::Lane& L = run->lanes[static_cast<size_t>(lane)];
  while (L.stage < stages.size() && L.step >= stages[L.stage].steps) {
    // Stage over for this lane: account its time to its label and show it on every
    // member's track; the next lane may now enter it.
    const Stage& st = stages[L.stage];
    if (L.step > 0) {
      run->label_time[st.label] += q_.now() - L.stage_start;
      if (rec_.on()) {
        std::string args = "{\"bytes_per_step\":" + std::to_string(static_cast<long long>(st.bytes * share)) +
                           ",\"steps\":" + std::to_string(st.steps) + "}";
        std::string name = std::string(collective_name(run->kind)) + " " + run->algorithm;
        if (st.label != run->algorithm) name += " " + st.label;
        if (run->lanes.size() > 1) name += " lane " + std::to_string(lane);
        for (int d : run->group) rec_.span(device_track(d), name, "collective", L.stage_start, q_.now(), args);
      }
    }
    size_t done_stage = L.stage;
    ++run->left_stage[done_stage];
    ++L.stage;
    L.step = 0;
    size_t next = static_cast<size_t>(lane) + 1;
    if (next < run->lanes.size() && run->lanes[next].waiting && run->lanes[next].stage == done_stage) {
      run->lanes[next].waiting = false;
      int nl = lane + 1;
      q_.at(q_.now(), [this, run, nl] { step(run, nl); });
    }
  }
  if (L.stage >= stages.size()) {
    if (++run->lanes_done == static_cast<int>(run->lanes.size())) finish(run);
    return;
  }
  if (L.step == 0) {
    if (run->left_stage[L.stage] < lane) {  // the lane ahead still uses this stage
      L.waiting = true;
      return;
    }
    L.stage_start = q_.now();
  }
  const Stage& st = stages[L.stage];
  ++L.step;
  if (st.step_latency > 0) {
    // The protocol's hand-off before the step's data moves (Stage::step_latency).
    q_.at(time_add(q_.now(), to_simtime(st.step_latency)), [this, run, lane, &st, share] {
      flows_.phase(st.pattern, st.bytes * share, [this, run, lane] { step(run, lane); });
    });
    return;
  }
  flows_.phase(st.pattern, st.bytes * share, [this, run, lane] { step(run, lane); });
}

void CollectiveRunner::finish(const std::shared_ptr<Run>& run) {
  CollectiveResult r;
  r.algorithm = run->algorithm;
  if (run->plan) r.protocol = run->plan->protocol;
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
                                std::uint64_t* events, const CollectiveLibrary* library) {
  EventQueue q;
  Recorder rec;
  FlowNet net(topo, q, rec);
  net.set_fast_path(fast_path);
  CollectiveRunner runner(topo, q, rec, net);
  if (library) runner.set_library(std::shared_ptr<const CollectiveLibrary>(library, [](const CollectiveLibrary*) {}));
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
