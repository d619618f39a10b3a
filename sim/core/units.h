// Strict parsing of quantities with units (contract "Units"). Every value is
// returned in SI base units: bytes, bytes/s, seconds, watts, hertz, 1/s, FLOP/s, joules.
#pragma once
#include <cstdint>
#include <string>

#include "sim/core/quantity.h"

namespace llmsim {

// Named SI quantities in base units (sim/core/quantity.h): one unit does not convert into
// another without an explicit Seconds{x}; the dimensional operators below keep the unit.
struct BytesTag {};
struct BytesPerSecondTag {};
struct SecondsTag {};
struct WattsTag {};
struct HertzTag {};
struct FlopsTag {};
struct FlopsPerSecondTag {};
struct JoulesTag {};
using Bytes = Quantity<BytesTag>;                    // B
using BytesPerSecond = Quantity<BytesPerSecondTag>;  // B/s
using Seconds = Quantity<SecondsTag>;                // s
using Watts = Quantity<WattsTag>;                    // W
using Hertz = Quantity<HertzTag>;                    // 1/s (clock)
using Flops = Quantity<FlopsTag>;                    // FLOP (or OP for integer types), a count
using FlopsPerSecond = Quantity<FlopsPerSecondTag>;  // FLOP/s (or OP/s for integer types)
using Joules = Quantity<JoulesTag>;                  // J

// Bytes / BytesPerSecond is Seconds, Watts * Seconds is Joules, ... (both orders of a product).
#define LLMSIM_UNIT_PRODUCT(A, B, R) \
  template <>                        \
  struct Product<A##Tag, B##Tag> {   \
    using type = R;                  \
  };                                 \
  template <>                        \
  struct Product<B##Tag, A##Tag> {   \
    using type = R;                  \
  };                                 \
  template <>                        \
  struct Quotient<R##Tag, A##Tag> {  \
    using type = B;                  \
  };                                 \
  template <>                        \
  struct Quotient<R##Tag, B##Tag> {  \
    using type = A;                  \
  };
LLMSIM_UNIT_PRODUCT(BytesPerSecond, Seconds, Bytes)
LLMSIM_UNIT_PRODUCT(FlopsPerSecond, Seconds, Flops)
LLMSIM_UNIT_PRODUCT(Watts, Seconds, Joules)
#undef LLMSIM_UNIT_PRODUCT

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
// The horizon is 2^63 - 1 ps = 9,223,372 s (about 106.75 days): a time past it cannot be
// represented (docs/architecture.md "Time and events").
using SimTime = std::int64_t;
constexpr SimTime kPsPerSecond = 1000000000000LL;
constexpr Seconds kSimHorizonSeconds = 9223372.036854775807;  // 2^63 ps
// True when `s` seconds converts to a SimTime (finite, below the horizon either way).
inline bool representable_time(Seconds s) { return s * 1e12 + 0.5 < 9.2233720368547758e18 && s * 1e12 > -9.2233720368547758e18; }
// What the horizon is, for messages: "the simulated-time horizon of 9223372 s (2^63 ps, ...)".
std::string horizon_text();
// A run that would pass the horizon: throws InfeasibleError (exit 3) saying so.
[[noreturn]] void past_horizon(Seconds s);
inline SimTime to_simtime(Seconds s) {
  if (!representable_time(s)) past_horizon(s);
  return static_cast<SimTime>(s * 1e12 + 0.5);
}
inline Seconds to_seconds(SimTime t) { return static_cast<double>(t) * 1e-12; }
// a + b, or InfeasibleError when the sum passes the horizon.
inline SimTime time_add(SimTime a, SimTime b) {
  SimTime r;
  if (__builtin_add_overflow(a, b, &r)) past_horizon(to_seconds(a) + to_seconds(b));
  return r;
}

}  // namespace llmsim
