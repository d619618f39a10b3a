// The statistics registry (gem5 / SST style): components register named statistics once,
// at elaboration, each with its unit and a doc line; values are read when the summary is
// written. summary.json `stats` holds aggregates per (component kind, statistic) (sum,
// mean, max over the components of that kind); `--stats full` adds every component's own
// values. scripts/sweep flattens both into results.csv columns like any summary metric.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmsim {

class Simulation;

struct Statistic {
  std::string component;  // module path: "gpu0.compute", "gpu0.hbm"
  std::string kind;       // what the component is: "stream.compute", "tier.hbm", "device", "network"
  std::string name;       // "busy_s", "utilization", "bytes", ...
  std::string unit;       // "s", "B", "FLOP", "1" (a fraction)
  std::string doc;
  std::function<double()> value;
};

// Many components of one kind with the same statistics (every link direction, every
// switch): registered as one family, so a 16,384-GPU fabric costs one entry, not four
// closures per link, and values are produced per component only when the summary is read.
struct StatFamily {
  std::string kind;  // "link", "switch"
  struct Field {
    std::string name, unit, doc;
  };
  std::vector<Field> fields;
  std::size_t count = 0;
  std::function<std::string(std::size_t)> component;             // module path of member i
  std::function<void(std::size_t, std::vector<double>&)> values;  // member i's, per field
};

class StatsRegistry {
 public:
  void add(Statistic s) { stats_.push_back(std::move(s)); }
  void add_family(StatFamily f) { families_.push_back(std::move(f)); }
  std::size_t size() const { return stats_.size(); }
  const std::vector<Statistic>& all() const { return stats_; }
  const std::vector<StatFamily>& families() const { return families_; }
  // {"KIND": {"NAME": {"sum", "mean", "max", "unit"}}, ...} and, when `full`,
  // "components": {"COMPONENT": {"NAME": value}}. Keys in registration order.
  nlohmann::ordered_json summary(bool full) const;

 private:
  std::vector<Statistic> stats_;
  std::vector<StatFamily> families_;
};

// Registers every device's streams, compute units and tiers, the network's counters, and
// every link direction (kind `link`) and switch (kind `switch`) of the fabrics.
void register_standard_stats(Simulation& sim);

}  // namespace llmsim
