// Whole simulations: the input decodes into a small random topology and workload
// (fuzz/scenario.h), which `llmsim run` (cmd_run, the CLI's own code) simulates twice in
// this process with --timeline, the second time with --debug-tie-shuffle. A refusal (InputError, exit 2; InfeasibleError, exit 3)
// is fine if the rerun gives the same; a finished run must hold the invariants of
// fuzz/invariants.h and the rerun must write the same bytes. Anything else aborts: a finding.
//
// SystemC 2.3 elaborates once per process and libFuzzer runs many inputs in one: each run
// gets a fresh simulation context (sc_curr_simcontext and sc_default_global_context, the
// kernel's two globals, pointed at a new sc_simcontext). The old context and the run's
// module tree are leaked, as cmd_run leaks the tree on purpose at process exit; hence
// detect_leaks=0 below. An execution leaks about 0.8 MB (docs/testing.md "Fuzzing").
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <sstream>
#include <systemc>

#include "fuzz/fuzz_common.h"
#include "fuzz/invariants.h"
#include "fuzz/scenario.h"
#include "sim/cli/commands.h"
#include "sim/engine/workload.h"

using namespace llmsim;

extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace {

// The scratch folder of this process: removed at a normal exit, kept after an abort (a
// finding), where its last inputs and outputs help.
// (A plain array: the exit handler runs after static strings are destroyed.)
char g_work_dir[] = "/tmp/llmsim-simulate-fuzz-XXXXXX";

const std::string& work_dir() {
  static const std::string dir = [] {
    if (!::mkdtemp(g_work_dir)) std::abort();
    std::atexit([] { (void)std::system((std::string("rm -rf '") + g_work_dir + "'").c_str()); });
    return std::string(g_work_dir);
  }();
  return dir;
}

void fresh_systemc_context() {
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
}

// One `llmsim run --quiet --timeline` into OUT (with `--debug-tie-shuffle SHUFFLE` when
// non-zero: the rerun permutes same-time events, which must not change a byte); the exit
// status the CLI would give.
int run_once(const std::string& out, std::uint64_t shuffle = 0) {
  fresh_systemc_context();
  RunArgs args;
  args.topology = work_dir() + "/topology.yaml";
  args.workload = work_dir() + "/workload.yaml";
  args.options.outdir = out;
  args.options.quiet = true;
  args.options.timeline = true;
  args.options.tie_shuffle = shuffle;
  args.options.max_events = 2000000;  // a runaway scenario stops (exit 3), never hangs
  std::ostringstream sink;
  try {
    return cmd_run(args, sink);
  } catch (const InputError&) {
    return 2;
  } catch (const InfeasibleError&) {
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: exception outside the contract: %s\n", e.what());
    std::abort();
  }
}

void report(const std::vector<std::string>& violations, const llmsim_fuzz::Scenario& sc) {
  if (violations.empty()) return;
  std::fprintf(stderr, "fuzz: invariant violated:\n");
  for (const auto& v : violations) std::fprintf(stderr, "  %s\n", v.c_str());
  std::fprintf(stderr, "--- topology.yaml\n%s--- workload.yaml\n%s--- model.json\n%s", sc.topology.c_str(),
               sc.workload.c_str(), sc.model.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  llmsim_fuzz::Scenario sc = llmsim_fuzz::decode_scenario(data, size);
  llmsim_fuzz::write_scenario(sc, work_dir());
  const std::string a = work_dir() + "/a", b = work_dir() + "/b";
  int rc_a = run_once(a);
  int rc_b = run_once(b, 0x5eed0000u + size);
  if (rc_a != rc_b) report({"exit status " + std::to_string(rc_a) + " then " + std::to_string(rc_b) + " on a rerun"}, sc);
  if (rc_a != 0) return 0;
  std::vector<std::string> bad;
  llmsim_fuzz::expect_contract([&] {
    ChipCatalog catalog(llmsim_fuzz::root() + "/topologies/devices");
    Topology topo = load_topology(load_doc(work_dir() + "/topology.yaml"), catalog);
    bad = llmsim_fuzz::check_run(a, topo, sc.inference, sc.requests, sc.max_event_bandwidth);
  });
  for (const auto& d : llmsim_fuzz::compare_runs(a, b)) bad.push_back(d);
  report(bad, sc);
  return 0;
}
