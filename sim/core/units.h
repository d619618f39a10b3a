// Strict parsing of quantities with units (contract "Units"). Every value is
// returned in SI base units: bytes, bytes/s, seconds, watts, hertz, 1/s, FLOP/s, joules.
#pragma once
#include <cstdint>
#include <string>

namespace llmsim {

// Named SI quantities; plain doubles in base units, named so signatures say what they hold.
using Bytes = double;           // B
using BytesPerSecond = double;  // B/s
using Seconds = double;         // s
using Watts = double;           // W
using Hertz = double;           // 1/s (clock)
using FlopsPerSecond = double;  // FLOP/s (or OP/s for integer types)
using Joules = double;          // J

enum class Dim { Size, Bandwidth, Time, Power, Frequency, Rate, Flops, Energy };

const char* dim_name(Dim d);      // "size", "bandwidth", ...
const char* dim_example(Dim d);   // "80 GB", "900 GB/s", ...

// Thrown by parse_quantity; offset is the 0-based character where the problem is.
struct UnitError {
  std::string message;
  int offset = 0;
};

// Parses "900 GB/s", "400 Gb/s", "80 GiB", "1.5 us", "700 W", "1.98 GHz", "10/s",
// "989 TFLOPS", "1979 TOPS". SI prefixes are powers of 1000, IEC (Ki, Mi, Gi, Ti, Pi)
// powers of 1024; "b" is bits, "B" bytes. A bare number is an error naming the unit.
// Throws UnitError.
double parse_quantity(const std::string& text, Dim dim);

// Human formatting used by reports: "3.35 TB/s", "80 GB", "1.50 us".
std::string format_quantity(double value, Dim dim, int precision = 3);

// Simulated time: integer picoseconds, so event order never depends on float rounding.
using SimTime = std::int64_t;
constexpr SimTime kPsPerSecond = 1000000000000LL;
inline SimTime to_simtime(Seconds s) { return static_cast<SimTime>(s * 1e12 + 0.5); }
inline Seconds to_seconds(SimTime t) { return static_cast<double>(t) * 1e-12; }

}  // namespace llmsim
