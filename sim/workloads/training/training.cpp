// `kind: training` (CONTRACT.md; docs/training.md): pre-training steps of a dense
// transformer under tensor, pipeline and data parallelism. load parses and validates;
// start checks memory (exit 3 with the breakdown) and hands the steps to the op-graph
// executor; report turns the per-stage times it recorded into the summary's `training`
// block (training_report.cpp).
#include <memory>
#include <ostream>
#include <stdexcept>

#include "models/device.h"
#include "models/power_governor.h"
#include "sim/core/error.h"
#include "sim/engine/faults.h"
#include "sim/engine/simulation.h"
#include "sim/engine/workload.h"
#include "sim/net/collective.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/executor.h"
#include "sim/workloads/training/layout.h"
#include "sim/workloads/training/lowering.h"
#include "sim/workloads/training/memory.h"
#include "sim/workloads/training/resilience.h"
#include "sim/workloads/training/training_report.h"

namespace llmsim {
namespace {

class Training : public Workload, public FaultListener {
 public:
  void load(const Doc& doc, const Topology& topo, ChipCatalog& catalog) override {
    (void)catalog;
    cfg_ = parse_training(doc, topo);
    parse_resilience(doc, cfg_, checkpoint_, goodput_);  // `checkpoint:`, `goodput:`
    layout_ = training_layout(cfg_, topo);
    if (topo.num_devices() == 0) return;
    // Every op of a pass must run on the chip (e.g. fp8 on a chip without fp8 GEMMs).
    const ChipSpec& chip = *topo.device_chip.front();
    try {
      TrainingLowering(cfg_, chip).chunk_cost(0);
    } catch (const std::invalid_argument& e) {
      throw InputError(pos_of(doc.root["dtype"] ? doc.root["dtype"] : doc.root, doc.file_of("dtype")),
                       "training (" + cfg_.dtype + " on " + chip.name + "): " + e.what());
    }
    check_algorithm(doc, topo);
  }

  // The collective algorithm must run every kind of group the step uses (first of each),
  // refused here with its position rather than mid-run.
  void check_algorithm(const Doc& doc, const Topology& topo) const {
    const RankMap m = rank_map(cfg_);
    const std::vector<std::vector<int>> groups = {m.tp_group(0, 0, 0), m.dp_group(0, 0), m.cp_group(0, 0, 0),
                                                  m.ep_group(0, 0, 0, 0), m.expert_dp_group(0, 0, 0)};
    for (const auto& g : groups) {
      if (g.size() < 2) continue;
      const bool ep = m.ep > 1 && g == m.ep_group(0, 0, 0, 0);
      const std::vector<CollectiveKind> kinds = ep ? std::vector<CollectiveKind>{CollectiveKind::AllToAll}
                                                   : std::vector<CollectiveKind>{CollectiveKind::AllReduce, CollectiveKind::AllGather,
                                                                                 CollectiveKind::ReduceScatter};
      for (CollectiveKind k : kinds) {
        const std::string why = collective_unsupported(topo, CollectiveRequest{k, g, 1 << 20, 0}, cfg_.par.algorithm);
        if (why.empty()) continue;
        const YAML::Node par = doc.root["parallelism"];
        const YAML::Node at = par && par.IsMap() && par["algorithm"] ? par["algorithm"] : doc.root;
        throw InputError(pos_of(at, doc.file_of("parallelism")), "workload.parallelism.algorithm: " + why);
      }
    }
  }

  void describe(std::ostream& os) const override { os << layout_; }

  YAML::Node resolved() const override { return cfg_.resolved; }
  // The named stack's collective library runs the step's collectives (run.cpp installs it).
  const SoftwareStack* software() const override { return cfg_.software.name.empty() ? nullptr : &cfg_.software; }

  void start(Simulation& sim) override {
    const ChipSpec& chip = sim.device(0).chip();
    check_training_fits(cfg_, chip);
    fold_energy(sim);
    exec_ = std::make_unique<TrainingExecutor>(sim, cfg_, chip);
    if (checkpoint_.given) exec_->set_checkpoint(checkpoint_.interval_s, checkpoint_write_s(cfg_, checkpoint_));
    exec_->start();
  }

  // Folded, replica 0 simulates every replica's passes (docs/training.md "Folding"): each
  // device of replica d > 0 draws what its replica-0 counterpart (same TP, CP rank and
  // stage) draws. Without this the energy counted one replica's work over all their tokens.
  void fold_energy(Simulation& sim) const {
    if (!cfg_.fold_data_parallel) return;
    const RankMap m = rank_map(cfg_);
    for (std::int64_t p = 0; p < m.pp; ++p)
      for (std::int64_t d = 1; d < m.dp; ++d)
        for (std::int64_t c = 0; c < m.cp; ++c)
          for (std::int64_t t = 0; t < m.tp; ++t) sim.stand_in(m.device(t, c, d, p), m.device(t, c, 0, p));
  }

  void report(Simulation& sim, Json& summary) override {
    report_ = training_report(cfg_, sim.device(0).chip(), exec_->steps(), exec_->data_stats());
    Seconds t = to_seconds(sim.now());
    const Joules e = sim.devices_energy();
    summary["energy_j"] = e;
    summary["avg_power_w"] = t > 0 ? e / t : Watts{0};
    summary["training"] = training_json(report_);
    // The stack the step ran under and whether its TP collectives overlapped their GEMMs.
    summary["training"]["software"] = cfg_.software.name.empty() ? "none" : cfg_.software.name;
    summary["training"]["tp_comm_overlap"] = cfg_.software.tp_comm_overlap;
    // Energy per trained token (issue 13): the devices' energy over the completed steps' tokens.
    const double tokens = static_cast<double>(report_.steps) * cfg_.tokens_per_step();
    summary["training"]["j_per_token"] = tokens > 0 ? e.value() / tokens : 0.0;
    add_resilience(sim, summary["training"]);
  }

  // A device failure stops the job: the run ends at that instant (the step in flight is
  // lost), and the summary prices it (resilience.cpp). Other faults apply and the steps
  // go on, slower (a straggler, a degraded link) or rerouted.
  FaultOutcome fault(Simulation& sim, const Fault& f, bool begins) override {
    if (!begins || f.kind != "device-down") return FaultOutcome::Apply;
    failed_device_ = f.device;
    failed_at_ = to_seconds(sim.now());
    return FaultOutcome::StopRun;
  }

  void add_resilience(Simulation& sim, Json& block) const {
    if (failed_device_ >= 0) {
      std::vector<double> ends;
      for (const StepRecord& r : exec_->steps()) ends.push_back(r.end);
      block["failure"] = failure_json(checkpoint_, failed_device_, failed_at_, ends, exec_->checkpoints());
    }
    // The goodput model adds the checkpoint writes itself: its step is the training step
    // without the writes the run simulated.
    if (goodput_.given && report_.step_mean > 0)
      block["goodput"] =
          goodput_json(cfg_, checkpoint_, goodput_, sim.topo(), report_.step_mean * (1 - report_.checkpoint));
  }

  void print(Simulation& sim, std::ostream& os) override {
    (void)sim;
    os << training_paragraph(cfg_, report_);
  }

  std::vector<std::string> waiting(Simulation& sim) override {
    (void)sim;
    if (failed_device_ >= 0) return {};  // stopped by the failure, not deadlocked
    return exec_ ? exec_->waiting() : std::vector<std::string>{};
  }

  WorkProgress progress(Simulation& sim) override {
    (void)sim;
    if (!exec_) return {};
    return {static_cast<double>(exec_->nodes_done()), static_cast<double>(exec_->nodes()), "ops"};
  }

 private:
  TrainingConfig cfg_;
  std::unique_ptr<TrainingExecutor> exec_;
  TrainingReport report_;
  std::string layout_;
  CheckpointConfig checkpoint_;
  GoodputConfig goodput_;
  int failed_device_ = -1;
  double failed_at_ = 0;
};

}  // namespace

LLMSIM_REGISTER_WORKLOAD(Training, "training");

}  // namespace llmsim
