// The CLI's commands as library functions (the binary is a thin CLI11 layer over them).
// Each returns the process exit status; errors propagate as InputError (2),
// InfeasibleError (3) or other exceptions (1), mapped in main.cpp.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/engine/run.h"

namespace llmsim {

// cmd_run and RunArgs: sim/engine/run.h.
int cmd_check(const std::vector<std::string>& files, const std::vector<Override>& overrides, std::ostream& out);

struct DevicesArgs {
  std::string format = "table";  // table | csv | json
  bool as_published = false;
};
int cmd_devices(const DevicesArgs& args, std::ostream& out);

struct FitArgs {
  std::string model;
  std::string dtype;
  std::vector<std::string> devices;
  long long context = 0;
  long long batch = 1;
  std::string training;  // --training WORKLOAD: per-stage training memory instead
};
int cmd_fit(const FitArgs& args, std::ostream& out);
// `llmsim fit --training WORKLOAD`: per-stage training memory and whether each chip holds it.
int cmd_fit_training(const FitArgs& args, std::ostream& out);

struct DescribeArgs {
  std::string kind;              // chip | topology | workload | workload:KIND
  std::string format = "table";  // table | yaml | csv
};
// Prints every declared field of a file kind (sim/core/params.h).
int cmd_describe(const DescribeArgs& args, std::ostream& out);

// What kind of document a file is, from its fields: "topology", "chip", "workload",
// "model" (HuggingFace config.json or catalog YAML), or "" if it cannot be told.
std::string classify_doc(const Doc& doc);

// `llmsim plan` (issue 15; sim/cli/plan.cpp, docs/plan.md).
struct PlanArgs {
  std::string service, prices, outdir;
  std::vector<std::string> topologies;
  std::int64_t jobs = 1;
  bool slurm = false;
};
int cmd_plan(const PlanArgs& args, std::ostream& out);

// Per-kind validators used by `check` (each prints a short report of what it found).
void check_chip_doc(const Doc& doc, std::ostream& out);
void check_topology_doc(const Doc& doc, ChipCatalog& catalog, std::ostream& out);
// With `topo` (a topology named earlier on the same `check` command line), the workload is
// checked against its devices, as `run` would.
void check_workload_doc(const Doc& doc, ChipCatalog& catalog, std::ostream& out, const Topology* topo = nullptr);
void check_model_doc(const Doc& doc, std::ostream& out);
// A config.resolved.yaml: its chips, topology and workload (parts read by
// sim/engine/resolved_config.h).
void check_resolved_doc(const Doc& doc, ChipCatalog& catalog, std::ostream& out);

}  // namespace llmsim
