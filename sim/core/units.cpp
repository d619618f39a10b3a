#include "sim/core/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sim/core/error.h"

namespace llmsim {
namespace {

struct Prefix {
  const char* text;
  double factor;
};

// Longest first so "Ki" wins over "K".
const Prefix kPrefixes[] = {
    {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
    {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0},
    {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
    {"", 1.0}};

const Prefix kSmallPrefixes[] = {{"p", 1e-12}, {"n", 1e-9}, {"u", 1e-6}, {"\xC2\xB5", 1e-6},
                                 {"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"", 1.0}};

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// Splits a unit like "GiB" into prefix factor and base; base must be one of `bases`.
bool match_prefixed(const std::string& unit, const Prefix* prefixes, size_t n,
                    const char* const* bases, size_t nb, double* factor, std::string* base) {
  for (size_t i = 0; i < n; ++i) {
    if (!starts_with(unit, prefixes[i].text)) continue;
    std::string rest = unit.substr(std::strlen(prefixes[i].text));
    for (size_t j = 0; j < nb; ++j) {
      if (rest == bases[j]) {
        *factor = prefixes[i].factor;
        *base = rest;
        return true;
      }
    }
  }
  return false;
}

// Size unit: [prefix](B|b). Returns bytes per unit, or <0 when unknown.
double size_unit(const std::string& u) {
  static const char* const bases[] = {"B", "b", "bit", "byte", "bytes"};
  double f = 0;
  std::string base;
  if (!match_prefixed(u, kPrefixes, sizeof kPrefixes / sizeof *kPrefixes, bases, 5, &f, &base))
    return -1;
  if (base == "b" || base == "bit") return f / 8.0;
  return f;
}

double bandwidth_unit(const std::string& u) {
  if (u.size() > 2 && u.compare(u.size() - 2, 2, "/s") == 0) return size_unit(u.substr(0, u.size() - 2));
  if (u.size() > 3 && u.compare(u.size() - 3, 3, "bps") == 0) {
    double f = size_unit(u.substr(0, u.size() - 3) + "b");
    return f;
  }
  if (u.size() > 3 && u.compare(u.size() - 3, 3, "Bps") == 0) return size_unit(u.substr(0, u.size() - 3) + "B");
  return -1;
}

double time_unit(const std::string& u) {
  if (u == "ps") return 1e-12;
  if (u == "ns") return 1e-9;
  if (u == "us" || u == "\xC2\xB5s") return 1e-6;
  if (u == "ms") return 1e-3;
  if (u == "s") return 1.0;
  if (u == "min") return 60.0;
  if (u == "h") return 3600.0;
  return -1;
}

double simple_prefixed(const std::string& u, const char* base) {
  static const char* bases[1];
  bases[0] = base;
  double f = 0;
  std::string b;
  if (!match_prefixed(u, kSmallPrefixes, sizeof kSmallPrefixes / sizeof *kSmallPrefixes, bases, 1, &f, &b))
    return -1;
  return f;
}

double flops_unit(const std::string& u) {
  static const char* const bases[] = {"FLOPS", "FLOP/s", "OPS", "OP/s", "flops"};
  double f = 0;
  std::string base;
  if (!match_prefixed(u, kPrefixes, sizeof kPrefixes / sizeof *kPrefixes, bases, 5, &f, &base))
    return -1;
  if (u.find('i') == 1) return -1;  // IEC prefixes make no sense for FLOPS
  return f;
}

double rate_unit(const std::string& u) {
  if (u == "/s" || u == "per s" || u == "Hz") return 1.0;
  if (u == "/min") return 1.0 / 60.0;
  if (u == "/h") return 1.0 / 3600.0;
  if (u == "/ms") return 1e3;
  return -1;
}

double energy_unit(const std::string& u) {
  if (u == "Wh") return 3600.0;
  if (u == "kWh") return 3.6e6;
  return simple_prefixed(u, "J");
}

double unit_factor(const std::string& u, Dim dim) {
  switch (dim) {
    case Dim::Size: return size_unit(u);
    case Dim::Bandwidth: return bandwidth_unit(u);
    case Dim::Time: return time_unit(u);
    case Dim::Power: return simple_prefixed(u, "W");
    case Dim::Frequency: return simple_prefixed(u, "Hz");
    case Dim::Rate: return rate_unit(u);
    case Dim::Flops: return flops_unit(u);
    case Dim::Energy: return energy_unit(u);
  }
  return -1;
}

}  // namespace

const char* dim_name(Dim d) {
  switch (d) {
    case Dim::Size: return "size";
    case Dim::Bandwidth: return "bandwidth";
    case Dim::Time: return "time";
    case Dim::Power: return "power";
    case Dim::Frequency: return "frequency";
    case Dim::Rate: return "rate";
    case Dim::Flops: return "throughput";
    case Dim::Energy: return "energy";
  }
  return "quantity";
}

const char* dim_example(Dim d) {
  switch (d) {
    case Dim::Size: return "80 GB";
    case Dim::Bandwidth: return "900 GB/s";
    case Dim::Time: return "1.5 us";
    case Dim::Power: return "700 W";
    case Dim::Frequency: return "1.98 GHz";
    case Dim::Rate: return "10/s";
    case Dim::Flops: return "989 TFLOPS";
    case Dim::Energy: return "5 pJ";
  }
  return "";
}

double parse_quantity(const std::string& text, Dim dim) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t num_start = i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  bool digits = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) { ++i; digits = true; }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) { ++i; digits = true; }
  }
  if (!digits) {
    throw UnitError{std::string("expected a ") + dim_name(dim) + " such as '" + dim_example(dim) +
                        "', got '" + text + "'",
                    static_cast<int>(num_start)};
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    if (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) {
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
      i = j;
    }
  }
  std::string num = text.substr(num_start, i - num_start);
  double value = std::strtod(num.c_str(), nullptr);
  if (!std::isfinite(value)) {
    throw UnitError{"number out of range: '" + num + "'", static_cast<int>(num_start)};
  }
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t unit_start = i;
  size_t end = text.size();
  while (end > unit_start && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  std::string unit = text.substr(unit_start, end - unit_start);
  if (unit.empty()) {
    throw UnitError{std::string("missing unit: a ") + dim_name(dim) + " needs one, e.g. '" +
                        dim_example(dim) + "'",
                    static_cast<int>(unit_start)};
  }
  double f = unit_factor(unit, dim);
  if (f < 0) {
    throw UnitError{std::string("unknown ") + dim_name(dim) + " unit '" + unit + "' (e.g. '" +
                        dim_example(dim) + "')",
                    static_cast<int>(unit_start)};
  }
  // A finite number times a large prefix can still overflow ("1e308 MB"): infinities must
  // not reach integer conversions such as to_simtime (found by fuzz/units_fuzz.cpp).
  double result = value * f;
  if (!std::isfinite(result)) {
    throw UnitError{"quantity out of range: '" + text.substr(num_start) + "'", static_cast<int>(num_start)};
  }
  return result;
}

std::string format_quantity(double value, Dim dim, int precision) {
  const char* unit = "";
  switch (dim) {
    case Dim::Size: unit = "B"; break;
    case Dim::Bandwidth: unit = "B/s"; break;
    case Dim::Time: unit = "s"; break;
    case Dim::Power: unit = "W"; break;
    case Dim::Frequency: unit = "Hz"; break;
    case Dim::Rate: unit = "/s"; break;
    case Dim::Flops: unit = "FLOPS"; break;
    case Dim::Energy: unit = "J"; break;
  }
  double a = std::fabs(value);
  const char* prefix = "";
  double scale = 1.0;
  if (dim == Dim::Time) {
    if (a == 0) {
    } else if (a < 1e-9) { prefix = "p"; scale = 1e-12; }
    else if (a < 1e-6) { prefix = "n"; scale = 1e-9; }
    else if (a < 1e-3) { prefix = "u"; scale = 1e-6; }
    else if (a < 1) { prefix = "m"; scale = 1e-3; }
  } else {
    static const struct { const char* p; double s; } big[] = {
        {"E", 1e18}, {"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}};
    for (const auto& b : big) {
      if (a >= b.s) { prefix = b.p; scale = b.s; break; }
    }
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g %s%s", precision, value / scale, prefix, unit);
  return buf;
}

std::string horizon_text() {
  return "the simulated-time horizon of 9223372 s (2^63 ps, about 106.75 days at 1 ps resolution)";
}

void past_horizon(Seconds s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g s", s.value());
  throw InfeasibleError(std::string("simulated time would reach ") + (std::isnan(s) ? "an undefined time" : buf) +
                        ", past " + horizon_text() + "; simulate a shorter span (fewer requests, a higher rate, "
                        "faster links)");
}

}  // namespace llmsim
