// `llmsim run`: load -> validate -> elaborate -> run -> finalize, each one step.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "models/device.h"
#include "models/network.h"
#include "models/power_governor.h"
#include "models/sc_kernel.h"
#include "sim/core/paths.h"
#include "sim/engine/faults.h"
#include "sim/engine/power_report.h"
#include "sim/engine/resolved_config.h"
#include "sim/engine/resource_guard.h"
#include "sim/engine/run.h"
#include "sim/engine/simulation.h"
#include "sim/engine/sinks.h"
#include "sim/engine/workload.h"
#include "sim/net/collective_library.h"
#include "sim/output/atomic_file.h"
#include "sim/output/progress.h"
#include "sim/software/stack.h"
#include "sim/spec/chip_validation.h"

namespace llmsim {
namespace {

// The output folders prepare_outdir made are removed again (when still empty) unless the
// run gets as far as writing its results: a refused run leaves nothing behind.
struct MadeDirs {
  std::vector<std::string> dirs;
  bool keep = false;
  ~MadeDirs() {
    if (keep) return;
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
  }
};

}  // namespace

// The fitted constants this run used and where they came from (a chip's own CALIBRATION
// rows, or "inherited from ..."), so a borrowed figure is visible beside the results.
static Json fitted_summary(const Topology& topo) {
  Json chips = Json::object(), fabrics = Json::object();
  for (const ChipSpec* c : topo.device_chip) {
    if (c && !c->fitted.empty() && !chips.contains(c->name)) chips[c->name] = c->fitted;
  }
  for (const auto& f : topo.fabrics) {
    if (!f.in_network_reduction) continue;
    fabrics[f.name] = {{"reduction_efficiency", f.reduction_efficiency},
                       {"reduction_startup_s", f.reduction_startup}, {"source", f.reduction_source}};
  }
  return Json{{"chips", chips}, {"fabrics", fabrics}};
}

// Each chip's validation summary (chip_validation.h), so a result carries how far the
// chip's model lands from its published measurements; null for chips without one.
static Json validation_summary(const Topology& topo) {
  Json chips = Json::object();
  for (const ChipSpec* c : topo.device_chip) {
    if (!c || chips.contains(c->name)) continue;
    if (!c->validation) {
      chips[c->name] = nullptr;
      continue;
    }
    chips[c->name] = {{"held_out_rows", c->validation->held_out_rows},
                      {"median_abs_error", c->validation->median_abs_error},
                      {"mean_speed_error", c->validation->mean_speed_error},
                      {"note", validation_note(*c)}};
  }
  return Json{{"chips", chips}};
}

// The collective library the run's collectives ran under (the workload's named stack's,
// else the system default's) and every figure it borrows from another library (a source
// "inherited from ..."), so a borrowed figure is visible beside the results.
static Json collective_library_summary(const CollectiveLibrary* lib) {
  if (!lib) return nullptr;
  Json protocols = Json::array(), inherited = Json::object();
  for (const auto& p : lib->protocols) protocols.push_back(p.name);
  for (const auto& kv : lib->sources)
    if (kv.second.rfind("inherited from", 0) == 0) inherited[kv.first] = kv.second;
  // The stack's own all-reduce kernel, when it has one (collective_library.h).
  Json custom = nullptr;
  if (lib->custom_max_bytes > 0)
    custom = Json{{"max_bytes", lib->custom_max_bytes}, {"max_ranks", lib->custom_max_ranks}};
  return Json{{"name", lib->name},
              {"channels", lib->channels},
              {"protocols", protocols},
              {"custom_allreduce", custom},
              {"inherited", inherited}};
}

namespace {

// --optimal-checkpoint is `goodput: {search_interval: true}` on a workload that already
// describes its checkpoints and failures; anything else is a usage error.
void request_interval_search(Doc& work) {
  const YAML::Node& root = work.root;
  const YAML::Node kind = root["kind"];
  const bool training = kind && kind.IsScalar() && kind.Scalar() == "training";
  if (!training || !root["checkpoint"] || !root["goodput"] || !root["goodput"].IsMap())
    throw InputError({"--optimal-checkpoint", 1, 1},
                     "needs a training workload with `checkpoint:` and `goodput:` maps (docs/faults.md \"Goodput\"); " +
                         work.path + " has " + (training ? "no checkpoint: and goodput: maps" : "no `kind: training`"));
  YAML::Node goodput = work.root["goodput"];
  goodput["search_interval"] = true;
}

// The workload registered for the document's `kind:`; unknown kinds list the known ones.
std::unique_ptr<Workload> make_workload(const Doc& work_doc, std::string& kind) {
  YAML::Node kind_node = static_cast<const YAML::Node&>(work_doc.root)["kind"];
  if (!kind_node) throw InputError({work_doc.path, 1, 1}, "workload: missing required field 'kind'");
  kind = as_string(kind_node, work_doc.file_of("kind"), "workload.kind");
  std::unique_ptr<Workload> workload = WorkloadRegistry::make(kind);
  if (!workload) {
    std::string list;
    for (const auto& k : WorkloadRegistry::kinds()) list += (list.empty() ? "" : ", ") + k;
    throw InputError(pos_of(kind_node, work_doc.file_of("kind")),
                     "workload.kind: unknown kind '" + kind + "' (known: " + list + ")");
  }
  return workload;
}

// Watchdog: the queue drained but the workload still waits on something => deadlock.
// Empty when nothing waits.
std::string deadlock_reason(Simulation& sim, Workload& workload) {
  std::vector<std::string> waiting = workload.waiting(sim);
  if (waiting.empty()) return "";
  std::string reason =
      "deadlock at " + std::to_string(to_seconds(sim.now())) + " s: no event can make progress; waiting: ";
  for (size_t i = 0; i < waiting.size() && i < 8; ++i) reason += (i ? "; " : "") + waiting[i];
  if (waiting.size() > 8) reason += "; ... (" + std::to_string(waiting.size()) + " in all)";
  // A device taken down by an event and never brought back is why its ops wait.
  for (int d = 0; d < sim.num_devices(); ++d)
    if (!sim.device(d).up())
      reason += "; device " + sim.device(d).label() + " went down at " +
                format_quantity(to_seconds(sim.device(d).down_since()), Dim::Time) + " and never came back";
  return reason;
}

// Runs the event queue under SystemC until it drains or a limit stops it; the reason it
// stopped early, or empty when it ran to the end. The caller keeps `kernel` alive through
// the summary: while it is attached, the queue's time is SystemC's (the instant a limit
// stopped at), which is what a partial run reports.
std::string run_until_done(ScKernel& kernel, Simulation& sim, Workload& workload, const RunOptions& opt,
                           std::chrono::steady_clock::time_point wall_start) {
  std::string stop_reason;
  std::uint64_t events_at_check = 0;
  ProgressLine progress(opt.progress, opt.quiet);
  kernel.keep_going = [&]() {
    EventQueue& q = sim.queue();
    if (opt.max_events && q.events_run() >= opt.max_events) {
      stop_reason = "--max-events " + std::to_string(opt.max_events) + " reached";
      return false;
    }
    if (q.next_time() > opt.max_sim_time) {
      stop_reason = "--max-sim-time reached";
      return false;
    }
    if (workload.stop_requested(stop_reason)) return false;
    if (q.events_run() - events_at_check >= 4096) {
      events_at_check = q.events_run();
      auto now = std::chrono::steady_clock::now();
      double wall = std::chrono::duration<double>(now - wall_start).count();
      if (opt.max_wall_s > 0 && wall > opt.max_wall_s) {
        stop_reason = "--max-wall reached";
        return false;
      }
      if (progress.due(wall)) {
        progress.update(wall, q.now(), q.events_run(), workload.progress(sim), opt.max_sim_time);
      }
    }
    return true;
  };
  run_under_systemc(kernel, sim.queue());
  progress.finish();
  if (stop_reason.empty()) stop_reason = deadlock_reason(sim, workload);
  return stop_reason;
}

// What summary.json says about the run itself, beside what the workload reports.
struct SummaryHeader {
  std::string kind, topology, workload;
  double wall_s = 0;
  std::string stop_reason;  // empty: the run finished
};

// summary.json (docs/outputs.md): the run's header, the workload's report, power, the
// statistics registry, the fitted constants in use and the collective library.
Json run_summary(const SummaryHeader& head, Simulation& sim, const Topology& topo, Workload& workload,
                 const RunOptions& opt) {
  const bool partial = !head.stop_reason.empty();
  Json summary;
  summary["version"] = LLMSIM_VERSION;
  summary["kind"] = head.kind;
  summary["topology"] = head.topology;
  summary["workload"] = head.workload;
  summary["devices"] = topo.num_devices();
  summary["seed"] = opt.seed;
  summary["sim_time_s"] = to_seconds(sim.now());
  summary["wall_time_s"] = head.wall_s;
  summary["events"] = sim.queue().events_run();
  summary["partial"] = partial;
  if (partial) summary["stop_reason"] = head.stop_reason;
  workload.report(sim, summary);
  summary["power"] = power_summary(sim);
  summary["stats"] = sim.stats().summary(opt.stats_full);
  summary["fitted"] = fitted_summary(topo);
  summary["validation"] = validation_summary(topo);
  summary["collective_library"] = collective_library_summary(sim.network().collective_library());
  return summary;
}

}  // namespace

int cmd_run(const RunArgs& args, std::ostream& out) {
  auto wall_start = std::chrono::steady_clock::now();
  set_systemc_resolution();  // before anything creates an sc_time
  RunOptions opt = args.options;  // a resolved config may supply the seed

  // A bad -o is found before anything is loaded or simulated.
  MadeDirs made{prepare_outdir(opt.outdir)};
  // Load and validate everything before any output exists.
  ChipCatalog catalog(default_catalog_dir());
  RunInputs inputs = load_run_inputs(args.topology, args.workload, catalog, opt);
  const Doc& work_doc = inputs.workload;
  for (const auto& o : opt.overrides) {
    if (o.target != "topology" && o.target != "workload") {
      throw InputError({"--set", 1, 1}, "'" + o.text + "': key must start with 'topology.' or 'workload.'");
    }
  }
  if (args.optimal_checkpoint) request_interval_search(inputs.workload);
  Topology topo = load_run_topology(inputs, catalog);
  std::string kind;
  std::unique_ptr<Workload> workload = make_workload(work_doc, kind);
  // Refuse a set-up that cannot fit (exit 3, with the estimate) before the workload
  // allocates its requests or the elaboration its devices.
  check_resources(topo, work_doc);
  // `faults:` (taken off the document) and --fault, checked against the topology.
  std::vector<Fault> faults = take_faults(inputs.workload, topo);
  for (size_t i = 0; i < args.faults.size(); ++i)
    faults.push_back(parse_fault_flag(args.faults[i], static_cast<int>(i) + 1, topo));
  inputs.faults = faults_resolved(faults);
  workload->load(work_doc, topo, catalog);

  // Elaborate.
  auto sim_owner = std::make_unique<Simulation>(topo, opt);
  Simulation& sim = *sim_owner;
  attach_sinks(sim);
  sim.elaborate();
  // The workload's named stack brings its own collective library (the default stack's
  // otherwise, set at elaboration); a stack naming none keeps the default's.
  if (const SoftwareStack* sw = workload->software(); sw && !sw->collective_library.empty())
    sim.network().set_collective_library(stack_collective_library(*sw));
  register_standard_stats(sim);
  auto* listener = dynamic_cast<FaultListener*>(workload.get());
  schedule_faults(sim, faults, [&sim, listener](const Fault& f, bool begins) {
    return listener ? listener->fault(sim, f, begins) : FaultOutcome::Apply;
  });
  workload->start(sim);

  ScKernel kernel("kernel", sim.queue());
  const std::string stop_reason = run_until_done(kernel, sim, *workload, opt, wall_start);
  const bool partial = !stop_reason.empty();

  // Finalize.
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  SummaryHeader head{kind, topo.name.empty() ? path_stem(args.topology) : topo.name, inputs.workload_name, wall,
                     stop_reason};
  const Json summary = run_summary(head, sim, topo, *workload, opt);

  made.keep = true;
  // Names from file names may be any bytes: invalid UTF-8 becomes U+FFFD, not an exception.
  write_file_atomic(opt.outdir + "/summary.json", summary.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
  write_file_atomic(opt.outdir + "/config.resolved.yaml",
                    resolved_config_text(inputs, args.topology, args.workload, topo, *workload, opt));
  workload->write_files(sim, opt.outdir);
  sim.recorder().finish(partial);
  if (!opt.quiet) {
    workload->print(sim, out);
    out << "llmsim: wrote " << opt.outdir << "/summary.json";
    if (opt.timeline) out << ", " << opt.outdir << "/timeline.json";
    if (opt.vcd) out << ", " << opt.outdir << "/signals.vcd";
    out << "\n";
  }
  // The module tree is left to the process exit on purpose: SystemC's registries remove
  // each module by a linear search, so tearing down 10^5 modules costs O(n^2) (14 s of a
  // 16,384-GPU run). Error paths still unwind it, which removes temporary files.
  (void)sim_owner.release();
  if (partial) {
    std::cerr << "llmsim: infeasible: run stopped early (" << stop_reason << "); partial results in "
              << opt.outdir << "/summary.json\n";
    return 3;
  }
  return 0;
}

}  // namespace llmsim
