// A workload kind (microbench, inference, training): parses its document, drives the
// simulation, reports its summary block. Kinds register themselves by name, so adding one
// is one new file (Ramulator-style registry of types; no simulation state is global).
#pragma once
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/yaml_doc.h"
#include "sim/output/progress.h"
#include "sim/spec/chip.h"
#include "sim/topo/topology.h"

namespace llmsim {

class Simulation;
struct SoftwareStack;
using Json = nlohmann::ordered_json;

class Workload {
 public:
  virtual ~Workload() = default;
  // Parse and validate (InputError, exit 2). Called before elaboration.
  virtual void load(const Doc& doc, const Topology& topo, ChipCatalog& catalog) = 0;
  // After load: the document as loaded (declared fields with defaults filled in and units
  // normalised; sim/core/params.h), for config.resolved.yaml. Undefined = copy the input.
  virtual YAML::Node resolved() const { return YAML::Node(YAML::NodeType::Undefined); }
  // Place tensors (InfeasibleError, exit 3, when they do not fit) and schedule the first
  // events.
  virtual void start(Simulation& sim) = 0;
  // After the event queue drained (or a limit stopped it): the kind's summary block(s).
  virtual void report(Simulation& sim, Json& summary) = 0;
  // Extra output files (requests.csv, ...), written atomically into outdir.
  virtual void write_files(Simulation& sim, const std::string& outdir) { (void)sim; (void)outdir; }
  // After the queue drained: what is still waiting (a deadlock: a receive with no send, a
  // collective some member never joined). Non-empty => the run ends with exit 3 naming them.
  virtual std::vector<std::string> waiting(Simulation& sim) { (void)sim; return {}; }
  // Whether the workload wants the run stopped now, and why (checked between events; the run
  // then ends partial, exit 3): serving targets that can no longer be met (issue 15).
  virtual bool stop_requested(std::string& why) const {
    (void)why;
    return false;
  }
  // How far the run is (called about once a second while a progress line is shown).
  virtual WorkProgress progress(Simulation& sim) { (void)sim; return {}; }
  // After load: the software stack the workload names (its collective library replaces
  // the system default's, docs/models.md "Collective libraries"); nullptr = none named.
  virtual const SoftwareStack* software() const { return nullptr; }
  // After load, for `llmsim check`: what the document resolves to (training: the rank map).
  virtual void describe(std::ostream& os) const { (void)os; }
  // One line per result for the terminal (nccl-tests style tables, human summary).
  virtual void print(Simulation& sim, std::ostream& os) { (void)sim; (void)os; }
};

class WorkloadRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Workload>()>;
  static bool add(const std::string& kind, Factory f);
  static std::unique_ptr<Workload> make(const std::string& kind);  // nullptr if unknown
  static std::vector<std::string> kinds();
};

#define LLMSIM_REGISTER_WORKLOAD(CLASS, KIND)                                             \
  static const bool llmsim_registered_##CLASS = ::llmsim::WorkloadRegistry::add( \
      KIND, [] { return std::unique_ptr<::llmsim::Workload>(new CLASS()); })

}  // namespace llmsim
