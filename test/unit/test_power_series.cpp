// PowerSeries (peak, energy, windowed averages of a piecewise-constant power) and the
// default DVFS curve, with the expected figures worked out by hand from the definitions
// in docs/models.md "Power".
#include <catch2/catch.hpp>

#include "models/power_governor.h"
#include "sim/spec/chip.h"
#include "sim/topo/topology.h"

namespace test_power_series {

using llmsim::DvfsCurve;
using llmsim::PowerSeries;
using llmsim::to_simtime;

TEST_CASE("PowerSeries: peak, energy and the highest window average", "[power]") {
  PowerSeries s(1e-3);
  s.set(0, 100);
  s.set(to_simtime(1.5e-3), 300);
  s.advance(to_simtime(4e-3));
  // Windows of 1 ms: 100, (0.5 x 100 + 0.5 x 300) = 200, 300, 300.
  CHECK(s.peak() == Approx(300));
  CHECK(s.max_window_avg() == Approx(300));
  CHECK(s.energy() == Approx(100 * 1.5e-3 + 300 * 2.5e-3));
}

TEST_CASE("PowerSeries: a short spike raises the peak, not the window average", "[power]") {
  PowerSeries s(1e-3);
  s.set(0, 100);
  s.set(to_simtime(0.5e-3), 500);
  s.set(to_simtime(0.7e-3), 100);
  s.advance(to_simtime(3e-3));
  CHECK(s.peak() == Approx(500));
  // First window: 0.5 x 100 + 0.2 x 500 + 0.3 x 100 = 180 W; the others 100 W.
  CHECK(s.max_window_avg() == Approx(180));
}

TEST_CASE("PowerSeries: a long span crosses many windows in one step", "[power]") {
  PowerSeries s(1e-3);
  s.set(0, 0);
  s.set(to_simtime(2.5e-3), 400);
  s.set(to_simtime(10.2e-3), 0);
  s.advance(to_simtime(20e-3));
  CHECK(s.max_window_avg() == Approx(400));       // windows 3..9 ms are wholly at 400 W
  CHECK(s.energy() == Approx(400 * 7.7e-3));
  PowerSeries z(1e-3);  // a zero-length instant at high power is no peak
  z.set(0, 100);
  z.set(to_simtime(1e-3), 900);
  z.set(to_simtime(1e-3), 100);
  z.advance(to_simtime(2e-3));
  CHECK(z.peak() == Approx(100));
}

TEST_CASE("DvfsCurve: voltage linear from (0.4, 0.7) to (1, 1), power rising with the clock", "[power]") {
  DvfsCurve c;  // the documented defaults
  CHECK(c.voltage(1.0) == Approx(1.0));
  CHECK(c.voltage(0.4) == Approx(0.7));
  CHECK(c.voltage(0.7) == Approx(0.85));
  CHECK(c.voltage(0.2) == Approx(0.7));  // flat below the floor
  CHECK(c.energy_scale(0.7) == Approx(0.85 * 0.85));
  CHECK(c.power_scale(0.7) == Approx(0.7 * 0.85 * 0.85));
  for (double s = 0.41; s < 1; s += 0.01) CHECK(c.power_scale(s) > c.power_scale(s - 0.01));
}

TEST_CASE("DvfsCurve: each chip's curve from its catalog entry, the topology's override wins", "[power]") {
  llmsim::ChipCatalog cat(llmsim::default_catalog_dir());
  llmsim::ChipSpec chip = cat.get("amd-mi300x");  // a copy we may edit
  llmsim::PowerSetup setup;
  // MI300X: dvfs {min_clock: 0.84 GHz, min_voltage: 0.7} at a 2.1 GHz clock.
  DvfsCurve c = DvfsCurve::of(chip, setup);
  CHECK(c.min_clock == Approx(0.84 / 2.1));
  CHECK(c.min_voltage == Approx(0.7));
  chip.power.dvfs_min_clock = 1.05e9;
  chip.power.dvfs_min_voltage = 0.8;
  c = DvfsCurve::of(chip, setup);
  CHECK(c.min_clock == Approx(0.5));
  CHECK(c.voltage(0.75) == Approx(0.9));  // halfway from (0.5, 0.8) to (1, 1)
  setup.min_clock = 0.6;
  setup.min_voltage = 0.75;
  c = DvfsCurve::of(chip, setup);
  CHECK(c.min_clock == Approx(0.6));
  CHECK(c.min_voltage == Approx(0.75));
}

}  // namespace test_power_series
