// llmsim command line (contract: "Command line"). Thin: parses flags, calls sim/cli.
#include <CLI/CLI.hpp>
#include <systemc>

#include <unistd.h>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/core/error.h"

using namespace llmsim;

namespace {

int report_input_error(const InputError& e) {
  std::cerr << "llmsim: error: " << e.located() << "\n";
  if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << "\n";
  return 2;
}

// Numeric flags are read as text and checked here: CLI11 turned `--seed -1` and
// `--seed 99999999999999999999999` into 18446744073709551615 without a word.
std::uint64_t flag_count(const std::string& flag, const std::string& text, std::uint64_t min = 0) {
  auto bad = [&](const std::string& why) -> InputError { return InputError({flag, 0, 0}, flag + " " + why); };
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw bad("expects a whole number >= " + std::to_string(min) + ", got '" + text + "'");
  }
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) throw bad(text + " is larger than the largest allowed, 18446744073709551615");
  if (v < min) throw bad("expects a whole number >= " + std::to_string(min) + ", got " + text);
  return v;
}

// A positive number of seconds (fractions allowed), within the simulated-time horizon.
double flag_seconds(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != 0 || !std::isfinite(v) || !(v > 0)) {
    throw InputError({flag, 0, 0}, flag + " expects a positive number of seconds, got '" + text + "'");
  }
  if (!representable_time(v)) throw InputError({flag, 0, 0}, flag + " " + text + " s is past " + horizon_text());
  return v;
}

// `llmsim run`'s flags: numeric ones as text, checked after parsing (flag_count).
struct RunFlags {
  RunArgs args;
  CLI::Option* seed = nullptr;
  std::string seed_s, max_events_s, max_sim_s, max_wall_s, shuffle_s;
  std::string stats_level = "summary";
};

CLI::App* add_run_command(CLI::App& app, RunFlags& r, std::vector<std::string>& sets) {
  RunArgs& run = r.args;
  auto* run_cmd = app.add_subcommand("run", "Simulate a workload on a topology");
  run_cmd->add_option("-t,--topology", run.topology, "Topology YAML")->required();
  run_cmd->add_option("-w,--workload", run.workload, "Workload YAML")->required();
  run_cmd->add_option("-o,--out", run.options.outdir, "Output directory (default out/)");
  run_cmd->add_option("--set", sets, "Override a field: topology.KEY=VALUE or workload.KEY=VALUE");
  run_cmd->add_flag("--timeline", run.options.timeline, "Write timeline.json (Chrome Trace Event Format)");
  run_cmd->add_option("--timeline-filter", run.options.timeline_filter,
                      "Only tracks whose process name matches this regex");
  run_cmd->add_flag("--vcd", run.options.vcd, "Write signals.vcd (SystemC sc_trace)");
  run_cmd->add_option("--vcd-filter", run.options.vcd_filter, "Only signals matching this regex");
  r.seed = run_cmd->add_option("--seed", r.seed_s, "Random seed (synthetic arrivals, ...)");
  auto* prog = run_cmd->add_flag("--progress", run.options.progress, "Show progress on stderr");
  run_cmd->add_flag("--quiet", run.options.quiet, "No progress, no human summary")->excludes(prog);
  run_cmd->add_option("--max-events", r.max_events_s, "Stop after N events (exit 3, partial)");
  run_cmd->add_option("--max-sim-time", r.max_sim_s, "Stop at this simulated time in seconds (exit 3, partial)");
  run_cmd->add_option("--max-wall", r.max_wall_s, "Stop after this many wall seconds (exit 3, partial)");
  run_cmd
      ->add_option("--stats", r.stats_level, "summary.json stats: summary (aggregates) or full (every component too)")
      ->check(CLI::IsMember({"summary", "full"}));
  run_cmd->add_option("--fault", run.faults,
                      "Inject a fault: KIND:TARGET@TIME[+DURATION][,key=value] (repeatable; docs/faults.md)");
  run_cmd->add_flag("--optimal-checkpoint", run.optimal_checkpoint,
                    "Training with goodput: also search the checkpoint interval of highest goodput");
  run_cmd->add_option("--debug-tie-shuffle", r.shuffle_s, "Debug: randomise same-time event order with this seed");
  return run_cmd;
}

// The run's options from the checked text flags.
RunArgs& finish_run_flags(RunFlags& r, const std::vector<Override>& overrides) {
  RunOptions& o = r.args.options;
  o.overrides = overrides;
  o.seed_given = r.seed->count() > 0;
  o.stats_full = r.stats_level == "full";
  if (o.seed_given) o.seed = flag_count("--seed", r.seed_s);
  if (!r.max_events_s.empty()) o.max_events = flag_count("--max-events", r.max_events_s, 1);
  if (!r.max_sim_s.empty()) o.max_sim_time = to_simtime(flag_seconds("--max-sim-time", r.max_sim_s));
  if (!r.max_wall_s.empty()) o.max_wall_s = flag_seconds("--max-wall", r.max_wall_s);
  if (!r.shuffle_s.empty()) o.tie_shuffle = flag_count("--debug-tie-shuffle", r.shuffle_s);
  return r.args;
}

// The error of a run, check, plan, ...: exit 2 (bad input), 3 (infeasible), 1 (a bug).
template <typename F>
int with_exit_codes(F&& command) {
  try {
    return command();
  } catch (const InputError& e) {
    return report_input_error(e);
  } catch (const InfeasibleError& e) {
    std::cerr << "llmsim: infeasible: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "llmsim: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  CLI::App app{"llmsim: cycle-approximate simulator of LLM accelerator clusters"};
  app.set_version_flag("--version", std::string("llmsim ") + LLMSIM_VERSION);
  app.require_subcommand(1);

  RunFlags run;
  std::vector<std::string> sets;
  auto* run_cmd = add_run_command(app, run, sets);

  std::vector<std::string> check_files;
  auto* check_cmd = app.add_subcommand("check", "Validate topology / device / workload / model files");
  check_cmd->add_option("files", check_files, "Files to check")->required();
  check_cmd->add_option("--set", sets, "Override a field before validation");

  DevicesArgs dev;
  auto* dev_cmd = app.add_subcommand("devices", "List the chip catalog");
  dev_cmd->add_option("--format", dev.format, "table | csv | json")->check(CLI::IsMember({"table", "csv", "json"}));
  dev_cmd->add_flag("--as-published", dev.as_published, "The review's Tables 1-3, as published");

  FitArgs fit;
  auto* fit_cmd = app.add_subcommand("fit", "How many chips hold a model (weights + KV cache)");
  fit_cmd->add_option("--model", fit.model, "Model name (workloads/models) or config.json path");
  fit_cmd->add_option("--dtype", fit.dtype, "Weight dtype: fp32 bf16 fp16 fp8 int8 int4 w8a16");
  fit_cmd->add_option("--training", fit.training, "A training workload: per-stage memory on each --device");
  fit_cmd->add_option("--device", fit.devices, "Chip name(s) (default: every chip in the catalog)");
  fit_cmd->add_option("--context", fit.context, "Tokens of KV cache per sequence");
  fit_cmd->add_option("--batch", fit.batch, "Concurrent sequences");

  DescribeArgs desc;
  auto* desc_cmd = app.add_subcommand("describe", "List every field of a chip, topology or workload file");
  desc_cmd->add_option("kind", desc.kind, "chip | topology | workload | workload:KIND")->required();
  desc_cmd->add_option("--format", desc.format, "table | yaml | csv")->check(CLI::IsMember({"table", "yaml", "csv"}));

  PlanArgs plan;
  std::string plan_jobs_s;
  auto* plan_cmd = app.add_subcommand("plan", "Cheapest system and configuration meeting a service's targets");
  plan_cmd->add_option("-w,--service", plan.service, "Service YAML (kind: service)")->required();
  plan_cmd->add_option("-t,--topology", plan.topologies, "System topology YAML(s)")->required();
  plan_cmd->add_option("--prices", plan.prices, "Prices YAML (default: the example prices/example.yaml)");
  plan_cmd->add_option("-j,--jobs", plan_jobs_s, "Simulations at once (default: CPUs)");
  plan_cmd->add_flag("--slurm", plan.slurm, "Run each round as a Slurm array job (scripts/sweep --slurm)");
  plan_cmd->add_option("-o,--out", plan.outdir, "Output folder")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // One line with the prefix, like every other error (CLI11 prints two without it).
    std::string msg = e.what();
    for (char& c : msg) if (c == '\n') c = ' ';
    std::cerr << "llmsim: error: " << msg << " (llmsim --help)\n";
    return 2;
  }

  return with_exit_codes([&]() -> int {
    std::vector<Override> overrides;
    for (const auto& s : sets) overrides.push_back(parse_override(s));
    if (*run_cmd) return cmd_run(finish_run_flags(run, overrides), std::cout);
    if (*check_cmd) return cmd_check(check_files, overrides, std::cout);
    if (*dev_cmd) return cmd_devices(dev, std::cout);
    if (*fit_cmd) return cmd_fit(fit, std::cout);
    if (*desc_cmd) return cmd_describe(desc, std::cout);
    if (*plan_cmd) {
      long cpus = sysconf(_SC_NPROCESSORS_ONLN);
      plan.jobs =
          plan_jobs_s.empty() ? std::max(1L, cpus) : static_cast<std::int64_t>(flag_count("--jobs", plan_jobs_s, 1));
      return cmd_plan(plan, std::cout);
    }
    return 1;
  });
}
