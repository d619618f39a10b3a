#include <catch2/catch.hpp>

#include "sim/core/units.h"

namespace test_units {

using namespace llmsim;

TEST_CASE("units: SI vs IEC prefixes, bits vs bytes", "[units]") {
  CHECK(parse_quantity("80 GB", Dim::Size) == Approx(80e9));
  CHECK(parse_quantity("80 GiB", Dim::Size) == Approx(80.0 * 1073741824.0));
  CHECK(parse_quantity("230 MB", Dim::Size) == Approx(230e6));
  CHECK(parse_quantity("900 GB/s", Dim::Bandwidth) == Approx(900e9));
  CHECK(parse_quantity("400 Gb/s", Dim::Bandwidth) == Approx(50e9));
  CHECK(parse_quantity("400 Gbps", Dim::Bandwidth) == Approx(50e9));
  CHECK(parse_quantity("1.5 us", Dim::Time) == Approx(1.5e-6));
  CHECK(parse_quantity("2 ms", Dim::Time) == Approx(2e-3));
  CHECK(parse_quantity("700 W", Dim::Power) == Approx(700));
  CHECK(parse_quantity("20 kW", Dim::Power) == Approx(20000));
  CHECK(parse_quantity("1.98 GHz", Dim::Frequency) == Approx(1.98e9));
  CHECK(parse_quantity("10/s", Dim::Rate) == Approx(10));
  CHECK(parse_quantity("989 TFLOPS", Dim::Flops) == Approx(989e12));
  CHECK(parse_quantity("1979 TOPS", Dim::Flops) == Approx(1979e12));
  CHECK(parse_quantity("20 PB/s", Dim::Bandwidth) == Approx(20e15));
  CHECK(parse_quantity("1e3 MB", Dim::Size) == Approx(1e9));
}

TEST_CASE("units: strict errors", "[units]") {
  CHECK_THROWS_AS(parse_quantity("80", Dim::Size), UnitError);        // bare number
  CHECK_THROWS_AS(parse_quantity("80 GB", Dim::Bandwidth), UnitError); // wrong dimension
  CHECK_THROWS_AS(parse_quantity("GB", Dim::Size), UnitError);
  CHECK_THROWS_AS(parse_quantity("5 parsecs", Dim::Time), UnitError);
  CHECK_THROWS_AS(parse_quantity("1 GiFLOPS", Dim::Flops), UnitError);
  try {
    parse_quantity("80", Dim::Size);
  } catch (const UnitError& e) {
    CHECK(e.message.find("size") != std::string::npos);
    CHECK(e.message.find("80 GB") != std::string::npos);
  }
}

}  // namespace test_units
