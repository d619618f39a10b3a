// How fast a memory tier serves an access stream: the seam between the device's resource
// arbiter (models/device_resources.h, which shares a tier's bandwidth among the kernels,
// copies and collective kernels running on it) and a timing model of the tier itself.
// Implementations register themselves by name, one file each (models/tier_models/), as
// collective algorithms do; a chip's tier picks one with `model:` (default "bandwidth").
// The arbiter asks the model for the sustained bandwidth and latency of each access
// pattern once, then shares that bandwidth fluidly: detail lives in the model, the
// event count stays one per kernel start/end.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/ops/access_pattern.h"

namespace sc_core {
class sc_module;
}

namespace llmsim {

struct MemoryTierSpec;

class TierModel {
 public:
  virtual ~TierModel() = default;
  // Sustained bandwidth (bytes/s, whole tier) for a long stream of this pattern.
  virtual BytesPerSecond bandwidth(const AccessPattern& p) const = 0;
  // Unloaded latency of the first access of a stream.
  virtual Seconds latency(const AccessPattern& p) const = 0;
  // Registered name ("bandwidth", "dram", ...).
  virtual std::string name() const = 0;
};

class TierModelRegistry {
 public:
  using Factory = std::function<std::unique_ptr<TierModel>(const MemoryTierSpec&)>;
  static bool add(const std::string& name, Factory f);
  // nullptr if `name` is unknown.
  static std::unique_ptr<TierModel> make(const std::string& name, const MemoryTierSpec& spec);
  static std::vector<std::string> names();
};

// Third-party TLM-2.0 targets (`model: tlm` with `target: NAME` on a chip's tier): a
// factory builds the target as a child module of the tier (any sc_module exposing one
// 32-bit tlm_target_socket, with or without processes of its own); the tier binds to it
// and learns its timing by probing it (models/tier_model_tlm.h has the contract).
class TlmTargetRegistry {
 public:
  using Factory = std::function<std::unique_ptr<sc_core::sc_module>(const char* name, const MemoryTierSpec&)>;
  static bool add(const std::string& name, Factory f);
  static const Factory* find(const std::string& name);  // nullptr if unknown
  static std::vector<std::string> names();
};

#define LLMSIM_REGISTER_TIER_MODEL(CLASS, NAME)                                       \
  static const bool llmsim_tier_model_##CLASS = ::llmsim::TierModelRegistry::add(  \
      NAME, [](const ::llmsim::MemoryTierSpec& s) {                                 \
        return std::unique_ptr<::llmsim::TierModel>(new CLASS(s));                 \
      })

#define LLMSIM_REGISTER_TLM_TARGET(CLASS, NAME)                                       \
  static const bool llmsim_tlm_target_##CLASS = ::llmsim::TlmTargetRegistry::add(  \
      NAME, [](const char* n, const ::llmsim::MemoryTierSpec& s) {                 \
        return std::unique_ptr<::sc_core::sc_module>(new CLASS(n, s));             \
      })

}  // namespace llmsim
