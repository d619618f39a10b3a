// The training executor's collectives (executor.h): the per-pass TP / CP / EP sequence,
// the EP all-to-all's meeting of replicas when unfolded, one network collective per group
// standing for a pass's identical ones, and data-parallel reductions and gathers.
#include <algorithm>

#include "models/network.h"
#include "sim/engine/simulation.h"
#include "sim/workloads/training/executor.h"
#include "sim/workloads/training/kv_replicas.h"
#include "sim/workloads/training/memory.h"

namespace llmsim {

void TrainingExecutor::run_pass_comm(std::int64_t step, std::int64_t r, std::int64_t s, std::int64_t k,
                                     std::shared_ptr<const PassCost> pc, std::shared_ptr<double> beside,
                                     std::function<void()> then) {
  std::vector<std::vector<int>> tp, cp;
  for (std::int64_t c = 0; c < cfg_.par.cp; ++c) tp.push_back(map_.tp_group(c, r, s));
  for (std::int64_t t = 0; t < cfg_.par.tp; ++t) cp.push_back(map_.cp_group(t, r, s));
  run_comm(
      tp, pc->tp_comm, 0,
      [this, step, r, s, k, pc, cp, then] {
        run_comm(cp, pc->cp_comm, 0, [this, step, r, s, k, pc, then] { run_ep_comm(step, r, s, k, pc, then); });
      },
      beside);
}

void TrainingExecutor::run_ep_comm(std::int64_t step, std::int64_t r, std::int64_t s, std::int64_t k,
                                   std::shared_ptr<const PassCost> pc, std::function<void()> then) {
  if (pc->ep_comm.empty()) return then();
  std::vector<std::vector<int>> ep;
  for (std::int64_t t = 0; t < cfg_.par.tp; ++t) {
    for (std::int64_t c = 0; c < cfg_.par.cp; ++c) ep.push_back(map_.ep_group(t, c, r, s));
  }
  if (replicas_.size() == 1) return run_comm(ep, pc->ep_comm, 0, then);
  // Unfolded: every member replica runs this pass; the all-to-all is one collective of the
  // group, so it starts when the last member arrives and releases them all.
  const auto key = std::make_tuple(step, s, k, r / cfg_.par.ep);
  std::vector<std::function<void()>>& arrived = ep_joins_[key].arrived;
  arrived.push_back(std::move(then));
  if (static_cast<std::int64_t>(arrived.size()) < cfg_.par.ep) return;
  auto members = std::make_shared<std::vector<std::function<void()>>>(std::move(arrived));
  ep_joins_.erase(key);
  run_comm(ep, pc->ep_comm, 0, [members] {
    for (auto& f : *members) f();
  });
}

void TrainingExecutor::run_comm(const std::vector<std::vector<int>>& groups, const std::vector<CommStep>& steps,
                                std::size_t i, std::function<void()> then, std::shared_ptr<double> beside) {
  if (i >= steps.size() || groups.empty() || groups.front().size() < 2) {
    then();
    return;
  }
  const CommStep st = steps[i];
  auto next = [this, groups, steps, i, then, beside] { run_comm(groups, steps, i + 1, then, beside); };
  // TP overlap: the GEMM chunks this collective is decomposed with run on the members'
  // compute streams while it runs on the network; the step goes on when both have ended.
  const bool overlapped = st.beside.time > 0;
  auto join = std::make_shared<int>(overlapped ? 2 : 1);
  auto arrive = [join, next] {
    if (--*join == 0) next();
  };
  if (overlapped) {
    std::vector<int> devs;
    for (const auto& g : groups) devs.insert(devs.end(), g.begin(), g.end());
    const double t0 = now();
    submit_all(devs, st.beside, "TP-overlapped GEMM chunks", [this, t0, beside, arrive] {
      if (beside) *beside += now() - t0;
      arrive();
    });
  }
  // One collective per group runs on the network (all groups at once); the pass's other
  // identical ones repeat the slowest one's time (as inference does: hundreds of same-size
  // collectives per micro-batch otherwise). With an overlap (the CP ring behind attention)
  // only max(0, time - overlap) of each is exposed; the one simulated is exposed whole, so
  // at most one layer's exchange is charged too much.
  auto pending = std::make_shared<std::size_t>(groups.size());
  auto slowest = std::make_shared<Seconds>(0);
  for (const auto& g : groups) {
    sim_.network().collective(st.kind, g, st.bytes, cfg_.par.algorithm,
                              [this, st, arrive, pending, slowest](const CollectiveResult& res) {
                                *slowest = std::max(*slowest, res.time);
                                if (--*pending > 0) return;
                                const Seconds each = std::max(Seconds{0}, *slowest - st.overlap);
                                const Seconds rest =
                                    std::max(Seconds{0}, each * static_cast<double>(st.count) - *slowest);
                                sim_.queue().after(to_simtime(rest), arrive);
                              });
  }
}

void TrainingExecutor::dp_collective(std::int64_t s, CollectiveKind kind, double share, std::function<void()> then) {
  const auto su = static_cast<std::size_t>(s);
  const Bytes expert = stage_expert_params_[su] * kGradBytes * share;
  const Bytes dense = (stage_params_[su] - stage_expert_params_[su]) * kGradBytes * share;
  std::vector<std::pair<std::vector<int>, Bytes>> jobs;
  for (std::int64_t t = 0; t < cfg_.par.tp; ++t) {
    if (dense > 0 && dense_replicas(cfg_) > 1) jobs.emplace_back(map_.dp_group(t, s), dense);
    if (expert <= 0 || expert_replicas(cfg_) < 2) continue;
    for (std::int64_t e = 0; e < cfg_.par.ep; ++e) jobs.emplace_back(map_.expert_dp_group(t, e, s), expert);
  }
  if (jobs.empty()) return then();
  auto pending = std::make_shared<std::size_t>(jobs.size());
  for (const auto& j : jobs) {
    sim_.network().collective(kind, j.first, j.second, cfg_.par.algorithm, [pending, then](const CollectiveResult&) {
      if (--*pending == 0) then();
    });
  }
}

void TrainingExecutor::kv_replica_reduce(std::int64_t s, std::function<void()> then) {
  std::int64_t layers = 0;  // every model chunk of stage s
  for (std::size_t vs = static_cast<std::size_t>(s); vs < chunks_.size(); vs += static_cast<std::size_t>(cfg_.par.pp)) {
    layers += chunks_[vs].layers;
  }
  const Bytes bytes = kv_gradient_bytes(cfg_, layers);
  std::vector<std::vector<int>> groups;
  for (std::int64_t r : replicas_) {
    for (std::int64_t c = 0; c < cfg_.par.cp; ++c) {
      for (auto& g : kv_replica_groups(cfg_, map_.tp_group(c, r, s))) groups.push_back(std::move(g));
    }
  }
  if (groups.empty() || bytes <= 0) return then();
  auto pending = std::make_shared<std::size_t>(groups.size());
  for (const auto& g : groups) {
    sim_.network().collective(CollectiveKind::AllReduce, g, bytes, cfg_.par.algorithm,
                              [pending, then](const CollectiveResult&) {
                                if (--*pending == 0) then();
                              });
  }
}

}  // namespace llmsim
