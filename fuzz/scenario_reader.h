// Input bytes as a sequence of bounded choices, and the scenario they decode into
// (fuzz/scenario.h builds it).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace llmsim_fuzz {

// Reads choices from the input bytes; past the end every choice is its lowest value.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint32_t u16() {
    std::uint32_t v = byte();
    return v | (byte() << 8);
  }
  // Uniform-ish in [lo, hi].
  int range(int lo, int hi) {
    if (hi <= lo) return lo;
    std::uint32_t span = static_cast<std::uint32_t>(hi - lo) + 1;
    return lo + static_cast<int>((span <= 256 ? byte() : u16()) % span);
  }
  bool flip() { return byte() & 1; }
  // 2^range(lo, hi) x (1 + a few low bits): sizes spread over orders of magnitude.
  long long sized(int lo_pow, int hi_pow) {
    long long base = 1LL << range(lo_pow, hi_pow);
    return base + (base > 8 ? base / 8 * range(0, 7) : 0);
  }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[static_cast<std::size_t>(range(0, static_cast<int>(v.size()) - 1))]; }

 private:
  std::uint32_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

struct Scenario {
  std::string topology;   // YAML text
  std::string workload;   // YAML text (a `model:` path is written as MODEL_PATH, see write)
  std::string model;      // config.json text ("" for microbench)
  bool inference = false;
  int requests = 0;       // synthetic requests of a serving run
  // Largest absolute bandwidth an event sets (0 = none): a link may run up to it.
  double max_event_bandwidth = 0;
};

namespace detail {

inline std::string gpu(int i) { return "gpu" + std::to_string(i); }

// One fabric as generated: what events may name.
struct Fabric {
  std::string name, shape;
  int group = 0;  // switch: devices per switch
};

}  // namespace detail

}  // namespace llmsim_fuzz
