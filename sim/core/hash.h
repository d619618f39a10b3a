// splitmix64 (Steele, Lea, Flood 2014): a tiny, well-mixed 64-bit hash. Used where a
// deterministic scramble of an id is needed (debug tie shuffle, timeline sampling).
#pragma once
#include <cstdint>

namespace llmsim {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace llmsim
