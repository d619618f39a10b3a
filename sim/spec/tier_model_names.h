// The names a chip's memory tier may give as `model:`, and per model the parameters its
// own map may override (`model: dram` with `dram: {tRCD: 14 ns}`). The chip loader
// (sim/spec/chip.cpp) checks a document against them; models/ fills them in as its tier
// models register (models/tier_model.cpp, models/tier_models/dram_params.cpp). So the
// loader reports a misspelt model at its position without depending on models/, which
// sits above sim/spec/ (docs/architecture.md "Layers").
#pragma once
#include <string>
#include <vector>

namespace llmsim {

class TierModelNames {
 public:
  static bool add(const std::string& model);
  static bool add_overrides(const std::string& model, const std::vector<std::string>& params);
  // Sorted, so messages listing them are deterministic whatever the link order.
  static std::vector<std::string> models();
  // The parameters `model` accepts under its own key; empty when it takes none.
  static std::vector<std::string> overrides(const std::string& model);
  // TLM-2.0 targets registered for `model: tlm` (`target:`), sorted.
  static bool add_target(const std::string& target);
  static std::vector<std::string> targets();
};

}  // namespace llmsim
