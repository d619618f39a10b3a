#include "sim/output/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "sim/core/event_queue.h"

namespace llmsim {
namespace {

std::string si(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.1fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string clock(double s) {
  char buf[32];
  auto t = static_cast<long long>(std::llround(s));
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
  return buf;
}

}  // namespace

ProgressLine::ProgressLine(bool forced, bool quiet, std::ostream* os)
    : enabled_(!quiet && (forced || ::isatty(STDERR_FILENO))), os_(os ? os : &std::cerr) {
  if (const char* env = std::getenv("LLMSIM_PROGRESS_AFTER_S")) {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end != env && *end == '\0' && v >= 0) after_s_ = v;
  }
}

std::string ProgressLine::format(double wall_s, SimTime now, std::uint64_t events, const WorkProgress& work,
                                 SimTime sim_limit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "llmsim: sim %.6f s", to_seconds(now).value());
  std::string s = buf;
  double frac = -1;
  if (work.total > 0) {
    s += " | " + si(work.done) + "/" + si(work.total) + " " + work.unit;
    frac = work.done / work.total;
  } else if (work.done > 0) {
    s += " | " + si(work.done) + " " + work.unit;
  }
  if (frac < 0 && sim_limit != EventQueue::kNever && sim_limit > 0) frac = to_seconds(now) / to_seconds(sim_limit);
  s += " | " + si(static_cast<double>(events)) + " events, " + si(static_cast<double>(events) / std::max(wall_s, 1e-9)) +
       " events/s";
  if (frac > 0 && frac < 1) s += " | ETA " + clock(wall_s * (1 - frac) / frac);
  return s;
}

void ProgressLine::update(double wall_s, SimTime now, std::uint64_t events, const WorkProgress& work,
                          SimTime sim_limit) {
  if (!due(wall_s)) return;
  last_ = wall_s;
  std::string line = format(wall_s, now, events, work, sim_limit);
  std::size_t w = line.size();
  if (line.size() < width_) line.append(width_ - line.size(), ' ');  // erase a longer previous line
  width_ = w;
  *os_ << "\r" << line << std::flush;
}

void ProgressLine::finish() {
  if (last_ >= 0) *os_ << "\n" << std::flush;
  last_ = -1;
}

}  // namespace llmsim
