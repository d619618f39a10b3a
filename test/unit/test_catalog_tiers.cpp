// Issue 12, item 6: no memory tier runs at exactly 100 % of its peak with zero latency
// unless a source says so. Every tier of every catalog chip has latency > 0 and
// efficiency < 1, or its YAML line for that figure cites a bracketed source key or a
// CALIBRATION row; and every latency / efficiency a tier states is either sourced that way
// or says "estimate" (docs/catalog.md "Assumptions").
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "sim/spec/chip.h"

namespace test_catalog_tiers {

using namespace llmsim;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The comment on the `key:` line inside the `- tier: NAME` block of a chip document;
// `found` says whether the line exists.
std::string tier_field_comment(const std::string& doc, const std::string& tier, const std::string& key, bool& found) {
  found = false;
  std::istringstream in(doc);
  std::string line;
  bool inside = false;
  const std::regex head("\\s*- tier: ([a-z]+).*"), field("\\s+" + key + ":[^#]*(#(.*))?");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, head)) {
      inside = m[1].str() == tier;
      continue;
    }
    if (inside && (line.empty() || line[0] != ' ')) inside = false;
    if (inside && std::regex_match(line, m, field)) {
      found = true;
      return m[2].str();
    }
  }
  return "";
}

bool cites_source(const std::string& comment) {
  static const std::regex key("\\[[A-Za-z0-9][A-Za-z0-9_.+-]*\\]|CALIBRATION C[0-9]+|\\bC[0-9]+\\b");
  return std::regex_search(comment, key);
}

// "" when the tier is fine, else why not.
std::string tier_problem(const std::string& doc, const MemoryTierSpec& t) {
  for (const char* key : {"latency", "efficiency"}) {
    bool found = false;
    std::string why = tier_field_comment(doc, t.tier, key, found);
    bool ideal = std::string(key) == "latency" ? !(t.latency > 0) : !(t.efficiency < 1);
    if (ideal && !(found && cites_source(why)))
      return t.tier + " " + key + (std::string(key) == "latency" ? " is 0" : " is 1") + " without a cited source";
    if (found && !cites_source(why) && why.find("estimate") == std::string::npos)
      return t.tier + " " + key + " neither cites a source nor says it is an estimate";
  }
  return "";
}

}  // namespace

TEST_CASE("catalog tiers: every tier has a latency and an efficiency below 1, or a source for the ideal", "[catalog]") {
  const std::string dir = default_catalog_dir();
  ChipCatalog cat(dir);
  int tiers = 0;
  for (const ChipSpec* c : cat.all()) {
    const std::string doc = read_file(dir + "/" + c->name + ".yaml");
    REQUIRE(!doc.empty());
    for (const MemoryTierSpec& t : c->memory) {
      INFO(c->name << " " << t.tier);
      CHECK(tier_problem(doc, t) == "");
      CHECK(t.latency < 10e-6);  // on-package memory: microseconds at most
      CHECK(t.efficiency > 0.5);
      ++tiers;
    }
  }
  CHECK(tiers >= 2 * static_cast<int>(cat.all().size()) - 10);  // most chips have two tiers
}

TEST_CASE("catalog tiers: the check catches an ideal tier and an unlabelled figure", "[catalog]") {
  MemoryTierSpec t;
  t.tier = "sram";
  t.latency = 0;
  t.efficiency = 1;
  CHECK(tier_problem("memory:\n  - tier: sram\n    capacity: 1 MB\n", t) == "sram latency is 0 without a cited source");
  t.latency = 1e-8;
  CHECK(tier_problem("memory:\n  - tier: sram\n    latency: 10 ns  # estimate: why\n", t) ==
        "sram efficiency is 1 without a cited source");
  // A source for exactly that figure makes the ideal acceptable.
  CHECK(tier_problem("memory:\n  - tier: sram\n    latency: 10 ns  # estimate: why\n"
                     "    efficiency: 1.0  # full rate measured [SOME-KEY]\n",
                     t) == "");
  t.efficiency = 0.9;
  CHECK(tier_problem("memory:\n  - tier: sram\n    latency: 10 ns  # a guess\n    efficiency: 0.9  # estimate\n", t) ==
        "sram latency neither cites a source nor says it is an estimate");
  // The field is looked up in its own tier's block only.
  CHECK(tier_problem("memory:\n  - tier: hbm\n    efficiency: 1.0  # [SOME-KEY]\n  - tier: sram\n"
                     "    latency: 10 ns  # estimate\n    efficiency: 0.9  # estimate\n",
                     t) == "");
}

}  // namespace test_catalog_tiers
