// Test helpers for VCD files: a small reader and GTKWave's round trip (vcd2fst, fst2vcd).
#pragma once
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace llmsim_test {

using Changes = std::map<std::string, std::vector<std::pair<std::uint64_t, double>>>;

struct Vcd {
  std::uint64_t ps_per_tick = 0;
  Changes changes;  // full dotted name -> (time in ps, value), consecutive repeats collapsed
};

inline std::uint64_t unit_ps(const std::string& u) {
  if (u == "fs") return 0;  // finer than we ever write; treated as unsupported
  if (u == "ps") return 1;
  if (u == "ns") return 1000;
  if (u == "us") return 1000000;
  if (u == "ms") return 1000000000ULL;
  if (u == "s") return 1000000000000ULL;
  return 0;
}

// A small VCD reader: scopes, real/scalar/vector vars, #time, value changes.
inline Vcd parse_vcd(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> tok;
  for (std::string w; f >> w;) tok.push_back(w);
  Vcd v;
  std::vector<std::string> scope;
  std::map<std::string, std::string> names;  // id -> name
  std::uint64_t now = 0;
  auto record = [&](const std::string& id, double val) {
    auto it = names.find(id);
    if (it == names.end()) return;
    auto& c = v.changes[it->second];
    if (!c.empty() && c.back().second == val) return;
    if (!c.empty() && c.back().first == now) c.back().second = val;
    else c.emplace_back(now, val);
  };
  for (size_t i = 0; i < tok.size(); ++i) {
    const std::string& t = tok[i];
    if (t == "$scope") { scope.push_back(tok[i + 2]); i += 3; }
    else if (t == "$upscope") { scope.pop_back(); i += 1; }
    else if (t == "$var") {
      std::string name;
      for (const auto& s : scope) name += s + ".";
      name += tok[i + 4];
      names.emplace(tok[i + 3], name);
      while (tok[i] != "$end") ++i;
    } else if (t == "$timescale") {
      std::string spec;
      for (++i; tok[i] != "$end"; ++i) spec += tok[i];
      size_t d = 0;
      while (d < spec.size() && isdigit(static_cast<unsigned char>(spec[d]))) ++d;
      v.ps_per_tick = std::stoull(spec.substr(0, d)) * unit_ps(spec.substr(d));
    } else if (t == "$dumpvars" || t == "$end" || t == "$dumpall" || t == "$dumpon" || t == "$dumpoff") {
      continue;
    } else if (t[0] == '$') {
      while (tok[i] != "$end") ++i;  // $date, $version, $comment, $enddefinitions
    } else if (t[0] == '#') {
      now = std::stoull(t.substr(1)) * v.ps_per_tick;
    } else if (t[0] == 'r' || t[0] == 'R' || t[0] == 'b' || t[0] == 'B') {
      double val = t[0] == 'r' || t[0] == 'R' ? std::stod(t.substr(1)) : static_cast<double>(std::stoull(t.substr(1), nullptr, 2));
      record(tok[++i], val);
    } else if (t[0] == '0' || t[0] == '1') {
      record(t.substr(1), t[0] == '1');
    }
  }
  return v;
}

inline bool have_tool(const char* name) { return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0; }

// vcd2fst then fst2vcd; the round trip must keep every variable and every value change.
inline void check_round_trip(const std::string& vcd, const Vcd& orig) {
  if (!have_tool("vcd2fst") || !have_tool("fst2vcd")) {
    WARN("SKIPPED: GTKWave's vcd2fst/fst2vcd not installed (Debian package gtkwave; scripts/setup.sh installs it)");
    return;
  }
  std::string fst = vcd + ".fst", back = vcd + ".back.vcd";
  REQUIRE(std::system(("vcd2fst '" + vcd + "' '" + fst + "' >/dev/null 2>&1").c_str()) == 0);
  REQUIRE(std::system(("fst2vcd -f '" + fst + "' -o '" + back + "' >/dev/null 2>&1").c_str()) == 0);
  Vcd rt = parse_vcd(back);
  REQUIRE(rt.ps_per_tick == orig.ps_per_tick);
  REQUIRE(rt.changes.size() == orig.changes.size());
  for (const auto& kv : orig.changes) {
    INFO("signal " << kv.first);
    REQUIRE(rt.changes.count(kv.first) == 1);
    const auto& a = kv.second;
    const auto& b = rt.changes.at(kv.first);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].first == b[i].first);
      CHECK(a[i].second == Approx(b[i].second).epsilon(1e-12));
    }
  }
}

// Every thread's "X" spans nest properly (what Perfetto requires); returns how many don't.
inline int improperly_nested(const nlohmann::json& trace) {
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> by_thread;
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X") by_thread[{e["pid"].get<int>(), e["tid"].get<int>()}].emplace_back(e["ts"], e["dur"]);
  int bad = 0;
  for (const auto& kv : by_thread) {
    std::vector<double> open;  // ends, in microseconds as written (6 decimals, exact)
    for (const auto& s : kv.second) {
      double b = s.first, e = s.first + s.second;
      while (!open.empty() && open.back() <= b + 1e-7) open.pop_back();
      if (!open.empty() && e > open.back() + 1e-7) ++bad;
      open.push_back(e);
    }
  }
  return bad;
}

}  // namespace llmsim_test
