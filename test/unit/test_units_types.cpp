// Unit types do not convert silently (issue 10 item 5): the forbidden conversions and
// operators are checked at compile time (static_assert through a detection idiom), the
// runtime cases show the types are not plain doubles and that dimensional results are right.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "sim/core/units.h"

namespace test_units_types {

using namespace llmsim;

namespace {

// Detection idiom: the type of a + b, a * b, a / b, a < b, or nonesuch when it does not compile.
struct Nonesuch {};
template <class A, class B, class = void>
struct SumOf {
  using type = Nonesuch;
};
template <class A, class B>
struct SumOf<A, B, std::void_t<decltype(std::declval<A>() + std::declval<B>())>> {
  using type = decltype(std::declval<A>() + std::declval<B>());
};
template <class A, class B, class = void>
struct ProductOf {
  using type = Nonesuch;
};
template <class A, class B>
struct ProductOf<A, B, std::void_t<decltype(std::declval<A>() * std::declval<B>())>> {
  using type = decltype(std::declval<A>() * std::declval<B>());
};
template <class A, class B, class = void>
struct QuotientOf {
  using type = Nonesuch;
};
template <class A, class B>
struct QuotientOf<A, B, std::void_t<decltype(std::declval<A>() / std::declval<B>())>> {
  using type = decltype(std::declval<A>() / std::declval<B>());
};
template <class A, class B, class = void>
struct Comparable : std::false_type {};
template <class A, class B>
struct Comparable<A, B, std::void_t<decltype(std::declval<A>() < std::declval<B>())>> : std::true_type {};
template <class A, class B, class = void>
struct AddAssignable : std::false_type {};
template <class A, class B>
struct AddAssignable<A, B, std::void_t<decltype(std::declval<A&>() += std::declval<B>())>> : std::true_type {};

template <class A, class B>
using Sum = typename SumOf<A, B>::type;
template <class A, class B>
using Prod = typename ProductOf<A, B>::type;
template <class A, class B>
using Quot = typename QuotientOf<A, B>::type;

// Could a function taking Seconds be called with X? Passing an argument copy-initialises
// the parameter, which is exactly implicit convertibility.
template <class X>
using CallableWithSeconds = std::is_convertible<X, Seconds>;

// Zero cost: one double, copied as bytes.
static_assert(sizeof(Seconds) == sizeof(double));
static_assert(std::is_trivially_copyable_v<Bytes>);
static_assert(std::is_trivially_copyable_v<Joules>);
static_assert(!std::is_same_v<Bytes, double>);
static_assert(!std::is_same_v<Bytes, Seconds>);

// One unit does not become another implicitly (copy-initialisation, calls, returns).
static_assert(!std::is_convertible_v<Bytes, Seconds>);
static_assert(!std::is_convertible_v<Seconds, Bytes>);
static_assert(!std::is_convertible_v<Watts, Joules>);
static_assert(!std::is_convertible_v<Flops, FlopsPerSecond>);
static_assert(!std::is_convertible_v<BytesPerSecond, Hertz>);
static_assert(!CallableWithSeconds<Bytes>::value);
static_assert(!CallableWithSeconds<Watts>::value);
static_assert(CallableWithSeconds<Seconds>::value);
static_assert(CallableWithSeconds<double>::value);  // a plain number is in the parameter's unit
static_assert(CallableWithSeconds<int>::value);
// A plain number converts both ways; an explicit Seconds{x} is the one way to relabel.
static_assert(std::is_convertible_v<double, Seconds> && std::is_convertible_v<Seconds, double>);
static_assert(std::is_constructible_v<Seconds, Bytes>);

// Same unit: sums keep the unit, scaling keeps it, a ratio is a plain number.
static_assert(std::is_same_v<Sum<Seconds, Seconds>, Seconds>);
static_assert(std::is_same_v<Sum<Bytes, double>, Bytes>);
static_assert(std::is_same_v<Sum<int, Bytes>, Bytes>);
static_assert(std::is_same_v<Prod<Bytes, int>, Bytes>);
static_assert(std::is_same_v<Prod<double, Watts>, Watts>);
static_assert(std::is_same_v<Quot<Joules, std::size_t>, Joules>);
static_assert(std::is_same_v<Quot<Seconds, Seconds>, double>);
static_assert(AddAssignable<Seconds, Seconds>::value && AddAssignable<Seconds, double>::value);
static_assert(!AddAssignable<Seconds, Bytes>::value);

// Two different units: a sum or comparison does not compile, so it yields no unit at all.
static_assert(std::is_same_v<Sum<Bytes, Seconds>, Nonesuch>);
static_assert(std::is_same_v<Sum<Watts, Joules>, Nonesuch>);
static_assert(!Comparable<Bytes, Seconds>::value);
static_assert(Comparable<Bytes, Bytes>::value && Comparable<Bytes, double>::value);
static_assert(!std::is_convertible_v<Sum<Bytes, Bytes>, Seconds>);

// Dimensional operators.
static_assert(std::is_same_v<Quot<Bytes, BytesPerSecond>, Seconds>);
static_assert(std::is_same_v<Quot<Bytes, Seconds>, BytesPerSecond>);
static_assert(std::is_same_v<Prod<BytesPerSecond, Seconds>, Bytes>);
static_assert(std::is_same_v<Prod<Seconds, BytesPerSecond>, Bytes>);
static_assert(std::is_same_v<Prod<Watts, Seconds>, Joules>);
static_assert(std::is_same_v<Quot<Joules, Seconds>, Watts>);
static_assert(std::is_same_v<Quot<Joules, Watts>, Seconds>);
static_assert(std::is_same_v<Quot<Flops, FlopsPerSecond>, Seconds>);
static_assert(std::is_same_v<Prod<FlopsPerSecond, Seconds>, Flops>);
// Unlisted pairs and plain number over a unit are plain numbers (not ambiguous).
static_assert(std::is_same_v<Prod<Bytes, Seconds>, double>);
static_assert(std::is_same_v<Quot<double, Watts>, double>);
static_assert(std::is_same_v<Quot<int, Seconds>, double>);

}  // namespace

TEST_CASE("units types: not plain doubles, dimensional results", "[units]") {
  CHECK_FALSE(std::is_same_v<Seconds, double>);
  CHECK_FALSE(std::is_convertible_v<Bytes, Seconds>);
  // 80 GB over 3.35 TB/s: 23.88 ms, the H100 SXM's whole-HBM read [NV-H100-WP].
  Bytes hbm = 80e9;
  BytesPerSecond bw = 3.35e12;
  Seconds t = hbm / bw;
  CHECK(t.value() == Approx(80.0 / 3350.0));
  // 700 W for one hour is 2.52 MJ (0.7 kWh).
  Joules e = Watts{700} * Seconds{3600};
  CHECK(e.value() == Approx(0.7 * 3.6e6));
  CHECK((e / Seconds{3600}).value() == Approx(700));
  // Relabelling needs an explicit construction and keeps the number.
  CHECK(Seconds{hbm}.value() == 80e9);
}

TEST_CASE("units types: limits, json and streams see the double", "[units]") {
  CHECK(std::isinf(std::numeric_limits<Seconds>::infinity().value()));
  CHECK(std::numeric_limits<Bytes>::max().value() == std::numeric_limits<double>::max());
  nlohmann::json j;
  j["t"] = Seconds{1.5};
  CHECK(j.dump() == "{\"t\":1.5}");
  CHECK(j["t"].get<Seconds>().value() == 1.5);
  std::ostringstream os;
  os << Bytes{2048};
  CHECK(os.str() == "2048");
  Seconds acc = 0;
  acc += 0.25;
  acc += Seconds{0.25};
  acc *= 4;
  CHECK(acc.value() == 2.0);
}

}  // namespace test_units_types
