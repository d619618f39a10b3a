#include "sim/output/chrome_trace_filter.h"

#include <cmath>
#include <limits>
#include <cstdlib>
#include <stdexcept>

namespace llmsim {
namespace {

// Parses a bound in seconds; empty means "open" (returns false).
bool parse_bound(const std::string& s, const std::string& whole, SimTime& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v) || v < 0) {
    throw std::invalid_argument("'" + whole + "': time window bound '" + s +
                                "' is not a non-negative number of seconds (syntax REGEX@T0:T1)");
  }
  // Past the simulated-time horizon no run reaches: the same as an open end.
  out = representable_time(v) ? to_simtime(v) : std::numeric_limits<SimTime>::max();
  return true;
}

}  // namespace

TrackFilter TrackFilter::parse(const std::string& text) {
  TrackFilter f;
  f.text = text;
  std::string regex = text;
  auto at = text.rfind('@');
  if (at != std::string::npos) {
    regex = text.substr(0, at);
    std::string window = text.substr(at + 1);
    auto colon = window.find(':');
    if (colon == std::string::npos) {
      throw std::invalid_argument("'" + text + "': time window needs T0:T1 after '@' (e.g. gpu0@0.5:1.0)");
    }
    parse_bound(window.substr(0, colon), text, f.t0);
    parse_bound(window.substr(colon + 1), text, f.t1);
    if (f.t1 < f.t0) throw std::invalid_argument("'" + text + "': time window ends before it starts");
  }
  if (!regex.empty()) {
    try {
      f.re = std::regex(regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("'" + regex + "': not a valid regular expression (" + e.what() + ")");
    }
    f.has_regex = true;
  }
  return f;
}

}  // namespace llmsim
