// Quantity<Tag>: a double in one SI unit that does not convert silently into another unit
// (issue 10 item 5; docs/architecture.md "Units"). It is built from a plain number and reads
// back as one (literals, std::isfinite, streams and arithmetic with plain numbers keep
// working), but copy-initialising one unit from another needs two user-defined conversions
// (Bytes -> double -> Seconds), which C++ forbids: passing Bytes to a Seconds parameter,
// returning Watts as Joules or `Seconds t = bytes;` fail to compile. Same-unit sums,
// scaling by a number and the dimensional products in units.h keep their unit; sums and
// comparisons of two different units are deleted. Zero-cost: one double, trivially copyable.
#pragma once
#include <limits>
#include <type_traits>

namespace llmsim {

template <class Tag>
class Quantity {
 public:
  constexpr Quantity() = default;
  // A plain number in the unit's SI base unit.
  constexpr Quantity(double v) : v_(v) {}           // NOLINT(google-explicit-constructor): see header
  constexpr operator double() const { return v_; }  // NOLINT(google-explicit-constructor)
  constexpr double value() const { return v_; }

  constexpr Quantity operator-() const { return Quantity(-v_); }
  constexpr Quantity operator+() const { return *this; }
  // The right side is a plain number or the same unit (Bytes += Seconds needs two
  // user-defined conversions: it does not compile).
  Quantity& operator+=(Quantity o) {
    v_ += o.v_;
    return *this;
  }
  Quantity& operator-=(Quantity o) {
    v_ -= o.v_;
    return *this;
  }
  Quantity& operator*=(double k) {
    v_ *= k;
    return *this;
  }
  Quantity& operator/=(double k) {
    v_ /= k;
    return *this;
  }

 private:
  double v_ = 0.0;
};

template <class T>
constexpr bool kIsPlainNumber = std::is_arithmetic_v<T>;
template <class T>
using PlainNumber = std::enable_if_t<kIsPlainNumber<T>, int>;
template <class A, class B>
using DifferentUnits = std::enable_if_t<!std::is_same_v<A, B>, int>;

// Same unit: sums keep the unit, a ratio is a plain number. The operators taking a plain
// number are templates so that `bytes + 1` (an int) is an exact match rather than
// ambiguous with the built-in double + int; a plain number is taken to be in the unit.
template <class Tag>
constexpr Quantity<Tag> operator+(Quantity<Tag> a, Quantity<Tag> b) {
  return a.value() + b.value();
}
template <class Tag>
constexpr Quantity<Tag> operator-(Quantity<Tag> a, Quantity<Tag> b) {
  return a.value() - b.value();
}
template <class Tag>
constexpr double operator/(Quantity<Tag> a, Quantity<Tag> b) {
  return a.value() / b.value();
}
template <class Tag, class T, PlainNumber<T> = 0>
constexpr Quantity<Tag> operator+(Quantity<Tag> a, T b) {
  return a.value() + b;
}
template <class Tag, class T, PlainNumber<T> = 0>
constexpr Quantity<Tag> operator+(T a, Quantity<Tag> b) {
  return a + b.value();
}
template <class Tag, class T, PlainNumber<T> = 0>
constexpr Quantity<Tag> operator-(Quantity<Tag> a, T b) {
  return a.value() - b;
}
template <class Tag, class T, PlainNumber<T> = 0>
constexpr Quantity<Tag> operator-(T a, Quantity<Tag> b) {
  return a - b.value();
}
template <class Tag, class T, PlainNumber<T> = 0>
constexpr Quantity<Tag> operator*(Quantity<Tag> a, T k) {
  return a.value() * k;
}
template <class Tag, class T, PlainNumber<T> = 0>
constexpr Quantity<Tag> operator*(T k, Quantity<Tag> a) {
  return k * a.value();
}
template <class Tag, class T, PlainNumber<T> = 0>
constexpr Quantity<Tag> operator/(Quantity<Tag> a, T k) {
  return a.value() / k;
}

// Two different units: a sum, difference or comparison is a mistake, so it does not
// compile (without these the built-in double operators would accept it).
template <class A, class B, DifferentUnits<A, B> = 0>
void operator+(Quantity<A>, Quantity<B>) = delete;
template <class A, class B, DifferentUnits<A, B> = 0>
void operator-(Quantity<A>, Quantity<B>) = delete;
template <class A, class B, DifferentUnits<A, B> = 0>
bool operator<(Quantity<A>, Quantity<B>) = delete;
template <class A, class B, DifferentUnits<A, B> = 0>
bool operator>(Quantity<A>, Quantity<B>) = delete;
template <class A, class B, DifferentUnits<A, B> = 0>
bool operator<=(Quantity<A>, Quantity<B>) = delete;
template <class A, class B, DifferentUnits<A, B> = 0>
bool operator>=(Quantity<A>, Quantity<B>) = delete;
template <class A, class B, DifferentUnits<A, B> = 0>
bool operator==(Quantity<A>, Quantity<B>) = delete;
template <class A, class B, DifferentUnits<A, B> = 0>
bool operator!=(Quantity<A>, Quantity<B>) = delete;

// Dimensional products and quotients: Product<A, B>::type is the unit of A * B, Quotient
// of A / B; units.h lists them. Templates, so `2.0 / watts` is not ambiguous with the
// built-in division (it is a plain double, as is any pair of units not listed).
template <class A, class B>
struct Product {};
template <class A, class B>
struct Quotient {};
template <class A, class B>
constexpr typename Product<A, B>::type operator*(Quantity<A> a, Quantity<B> b) {
  return a.value() * b.value();
}
template <class A, class B>
constexpr typename Quotient<A, B>::type operator/(Quantity<A> a, Quantity<B> b) {
  return a.value() / b.value();
}

// nlohmann::json by ADL, templated on the json type so this header does not include it.
template <class Json, class Tag>
void to_json(Json& j, Quantity<Tag> q) {
  j = q.value();
}
template <class Json, class Tag>
void from_json(const Json& j, Quantity<Tag>& q) {
  q = j.template get<double>();
}

}  // namespace llmsim

// numeric_limits<Seconds>::infinity() is the double's (unspecialised it would be 0).
namespace std {
template <class Tag>
struct numeric_limits<llmsim::Quantity<Tag>> : numeric_limits<double> {
  using Q = llmsim::Quantity<Tag>;
  static constexpr Q min() noexcept { return numeric_limits<double>::min(); }
  static constexpr Q max() noexcept { return numeric_limits<double>::max(); }
  static constexpr Q lowest() noexcept { return numeric_limits<double>::lowest(); }
  static constexpr Q epsilon() noexcept { return numeric_limits<double>::epsilon(); }
  static constexpr Q infinity() noexcept { return numeric_limits<double>::infinity(); }
  static constexpr Q quiet_NaN() noexcept { return numeric_limits<double>::quiet_NaN(); }
};
}  // namespace std
