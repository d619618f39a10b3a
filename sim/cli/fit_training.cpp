// `llmsim fit --training WORKLOAD`: the training memory arithmetic the workload checks at
// start (sim/workloads/training/memory.h), per pipeline stage, against each chip.
#include <cstdio>
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/core/error.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/memory.h"

namespace llmsim {

int cmd_fit_training(const FitArgs& args, std::ostream& out) {
  if (!args.model.empty() || !args.dtype.empty() || args.context != 0 || args.batch != 1) {
    throw InputError({"--training", 0, 0}, "takes its model, dtype and batch from the workload; drop --model, --dtype, "
                                           "--context and --batch");
  }
  Doc doc = load_doc(args.training);
  Topology none;  // dp comes from the workload (default 1) when there is no topology
  TrainingConfig c = parse_training(doc, none);
  const auto stages = training_memory(c);
  out << "training " << c.model.name << " (" << c.dtype << "): tp " << c.par.tp
      << (c.par.cp > 1 ? " x cp " + std::to_string(c.par.cp) : "") << " x pp " << c.par.pp << " x dp " << c.par.dp
      << (c.par.ep > 1 ? " (ep " + std::to_string(c.par.ep) + ")" : "") << ", " << c.par.schedule << (c.par.virtual_stages > 1 ? " v " + std::to_string(c.par.virtual_stages) : "")
      << ", zero " << c.par.zero << ", recompute " << c.par.recompute << ", " << c.micro_batches()
      << " micro-batches of " << c.micro_batch << " x " << c.seq_len << " tokens\n";
  const StageMemory* worst = &stages.front();
  for (const auto& s : stages) {
    out << "stage " << s.stage << " (" << training_stage_layers(c, s.stage) << " layers): " << memory_breakdown(s) << "\n";
    if (s.total() > worst->total()) worst = &s;
  }
  out << "\n";
  ChipCatalog catalog(default_catalog_dir());
  std::vector<std::string> names = args.devices.empty() ? catalog.names() : args.devices;
  const double gib = 1024.0 * 1024 * 1024;
  for (const auto& n : names) {
    const ChipSpec& chip = catalog.get(n, {"--device", 0, 0});
    const double cap = chip.main_tier().capacity, usable = cap * (1 - c.memory_reserve);
    // What the main tier holds (optimizer states elsewhere on an IPU): check_training_fits' rule.
    const double need = main_tier_bytes(*worst, chip);
    char line[256];
    std::snprintf(line, sizeof line,
                  "%-28s %8.1f GiB x (1 - %.2g reserve) = %8.1f GiB: %s (worst stage %lld, %.1f GiB)\n",
                  chip.name.c_str(), cap / gib, c.memory_reserve, usable / gib,
                  need <= usable ? "fits" : "does not fit", static_cast<long long>(worst->stage), need / gib);
    out << line;
  }
  return 0;
}

}  // namespace llmsim
