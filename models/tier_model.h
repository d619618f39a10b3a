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

namespace llmsim {

struct MemoryTierSpec;

// The shape of an access stream as a kernel issues it.
struct AccessPattern {
  enum class Kind { Sequential, Random };
  Kind kind = Kind::Sequential;
  Bytes granule = 64;         // bytes per independent access (Random: block size)
  double read_fraction = 1.0; // reads / (reads + writes)
};

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

#define LLMSIM_REGISTER_TIER_MODEL(CLASS, NAME)                                       \
  static const bool llmsim_tier_model_##CLASS = ::llmsim::TierModelRegistry::add(  \
      NAME, [](const ::llmsim::MemoryTierSpec& s) {                                 \
        return std::unique_ptr<::llmsim::TierModel>(new CLASS(s));                 \
      })

}  // namespace llmsim
