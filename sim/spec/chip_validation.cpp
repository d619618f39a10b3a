#include "sim/spec/chip_validation.h"

#include <cmath>
#include <cstdio>

namespace llmsim {

void load_chip_validation(Params& f, ChipSpec& c) {
  if (!f.has("validation")) return;
  Params v = f.child("validation");
  ChipValidation out;
  out.held_out_rows = v.integer("held_out_rows");
  out.median_abs_error = v.num("median_abs_error");
  out.mean_speed_error = v.num("mean_speed_error");
  if (out.held_out_rows < 0) v.fail("held_out_rows", "must be >= 0");
  if (!(out.median_abs_error >= 0) || !std::isfinite(out.median_abs_error))
    v.fail("median_abs_error", "must be a finite fraction >= 0 (0.11 for 11 %)");
  if (!std::isfinite(out.mean_speed_error)) v.fail("mean_speed_error", "must be a finite fraction (0.19 for +19 %)");
  v.finish();
  c.validation = out;
}

std::string validation_note(const ChipSpec& c) {
  if (!c.validation) return "no validation row runs on " + c.name + " (docs/validation.md)";
  const ChipValidation& v = *c.validation;
  if (v.held_out_rows == 0) return "no held-out row: only tuned rows or bounds (docs/validation.md)";
  const long rounded = std::lround(100.0 * v.mean_speed_error);
  const double speed = rounded == 0 ? 0.0 : 100.0 * v.mean_speed_error;  // no "-0 %"
  const char* way = rounded > 0 ? "simulated faster" : rounded < 0 ? "simulated slower" : "neither way";
  char buf[200];
  std::snprintf(buf, sizeof buf, "%lld held-out row%s: mean speed error %+.0f %% (%s), median abs error %.0f %%",
                static_cast<long long>(v.held_out_rows), v.held_out_rows == 1 ? "" : "s", speed, way,
                100.0 * v.median_abs_error);
  return buf;
}

}  // namespace llmsim
