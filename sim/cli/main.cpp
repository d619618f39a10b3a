// llmsim command line (contract: "Command line"). Thin: parses flags, calls sim/cli.
#include <CLI/CLI.hpp>
#include <systemc>

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

}  // namespace

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  CLI::App app{"llmsim: cycle-approximate simulator of LLM accelerator clusters"};
  app.set_version_flag("--version", std::string("llmsim ") + LLMSIM_VERSION);
  app.require_subcommand(1);

  RunArgs run;
  std::vector<std::string> sets;
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
  auto* seed_opt = run_cmd->add_option("--seed", run.options.seed, "Random seed (synthetic arrivals, ...)");
  auto* prog = run_cmd->add_flag("--progress", run.options.progress, "Show progress on stderr");
  run_cmd->add_flag("--quiet", run.options.quiet, "No progress, no human summary")->excludes(prog);
  double max_sim_s = 0;
  run_cmd->add_option("--max-events", run.options.max_events, "Stop after N events (exit 3, partial)");
  run_cmd->add_option("--max-sim-time", max_sim_s, "Stop at this simulated time in seconds (exit 3, partial)");
  run_cmd->add_option("--max-wall", run.options.max_wall_s, "Stop after this many wall seconds (exit 3, partial)");
  run_cmd->add_option("--debug-tie-shuffle", run.options.tie_shuffle,
                      "Debug: randomise same-time event order with this seed");

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
  fit_cmd->add_option("--model", fit.model, "Model name (workloads/models) or config.json path")->required();
  fit_cmd->add_option("--dtype", fit.dtype, "Weight dtype: fp32 bf16 fp16 fp8 int8 int4")->required();
  fit_cmd->add_option("--device", fit.devices, "Chip name(s) (default: every chip in the catalog)");
  fit_cmd->add_option("--context", fit.context, "Tokens of KV cache per sequence");
  fit_cmd->add_option("--batch", fit.batch, "Concurrent sequences");

  DescribeArgs desc;
  auto* desc_cmd = app.add_subcommand("describe", "List every field of a chip, topology or workload file");
  desc_cmd->add_option("kind", desc.kind, "chip | topology | workload | workload:KIND")->required();
  desc_cmd->add_option("--format", desc.format, "table | yaml | csv")->check(CLI::IsMember({"table", "yaml", "csv"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  try {
    std::vector<Override> overrides;
    for (const auto& s : sets) overrides.push_back(parse_override(s));
    if (*run_cmd) {
      run.options.overrides = overrides;
      run.options.seed_given = seed_opt->count() > 0;
      if (max_sim_s > 0) run.options.max_sim_time = to_simtime(max_sim_s);
      return cmd_run(run, std::cout);
    }
    if (*check_cmd) return cmd_check(check_files, overrides, std::cout);
    if (*dev_cmd) return cmd_devices(dev, std::cout);
    if (*fit_cmd) return cmd_fit(fit, std::cout);
    if (*desc_cmd) return cmd_describe(desc, std::cout);
  } catch (const InputError& e) {
    return report_input_error(e);
  } catch (const InfeasibleError& e) {
    std::cerr << "llmsim: infeasible: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "llmsim: internal error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}

