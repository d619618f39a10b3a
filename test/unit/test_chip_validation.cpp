// A chip's `validation:` line (scripts/validate --write copies docs/validation.md's
// per-chip table into the chip files): the lines agree with the table, the words shown
// beside a result say which way the model errs, and a bad line is exit-2 input.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "cli_support.h"
#include "sim/core/error.h"
#include "sim/spec/chip_validation.h"

namespace test_chip_validation {

using namespace llmsim_test;
using Figures = std::tuple<long, long, long>;  // rows, median %, speed %

// The per-chip table of docs/validation.md: (held-out rows, median %, speed %) per line
// that has held-out rows.
std::set<Figures> table_figures() {
  std::ifstream in(kRoot + "/docs/validation.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const auto a = doc.find("| chip | held-out rows |");
  REQUIRE(a != std::string::npos);
  std::set<Figures> out;
  const std::regex line(R"(\| [^|]+ \| (\d+) \| (\d+) % \| [+-]\d+ % \| ([+-]\d+) % \| \d+ \|)");
  std::istringstream rows(doc.substr(a, doc.find("\n\n", a) - a));
  for (std::string l; std::getline(rows, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) out.insert({std::stol(m[1]), std::stol(m[2]), std::stol(m[3])});
  }
  return out;
}

TEST_CASE("chip validation: every chip's line is a line of docs/validation.md's per-chip table", "[catalog]") {
  const std::set<Figures> table = table_figures();
  REQUIRE(table.size() >= 10);  // the table has a line per chip with held-out rows
  llmsim::ChipCatalog cat(llmsim::default_catalog_dir());
  std::set<Figures> seen;
  for (const auto* chip : cat.all()) {
    if (!chip->validation || chip->validation->held_out_rows == 0) continue;
    const auto& v = *chip->validation;
    // The table rounds to whole percent; the line keeps four decimals of the fraction.
    const Figures f{v.held_out_rows, std::lround(100 * v.median_abs_error), std::lround(100 * v.mean_speed_error)};
    INFO(chip->name);
    CHECK(table.count(f) == 1);
    seen.insert(f);
  }
  CHECK(seen == table);  // and no line of the table is missing from the catalog
  CHECK(cat.get("nvidia-h100-sxm").validation.has_value());
  CHECK_FALSE(cat.get("nvidia-b200").validation.has_value());  // no row runs on it
}

TEST_CASE("chip validation: the note says which way the model errs", "[catalog]") {
  llmsim::ChipSpec c;
  c.name = "x";
  CHECK(llmsim::validation_note(c).find("no validation row runs on x") == 0);
  c.validation = llmsim::ChipValidation{13, 0.1049, 0.2986};
  CHECK(llmsim::validation_note(c) ==
        "13 held-out rows: mean speed error +30 % (simulated faster), median abs error 10 %");
  c.validation = llmsim::ChipValidation{1, 0.1456, -0.1456};
  CHECK(llmsim::validation_note(c) ==
        "1 held-out row: mean speed error -15 % (simulated slower), median abs error 15 %");
  c.validation = llmsim::ChipValidation{2, 0.03, -0.004};
  CHECK(llmsim::validation_note(c).find("+0 % (neither way)") != std::string::npos);
  c.validation = llmsim::ChipValidation{0, 0, 0};
  CHECK(llmsim::validation_note(c).find("no held-out row") == 0);
}

TEST_CASE("chip validation: summary.json and a bad line", "[catalog][cli]") {
  std::ifstream in(kRoot + "/topologies/devices/nvidia-h100-sxm.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string base = std::regex_replace(ss.str(), std::regex("\nvalidation:[^\n]*"), "");
  auto bad = [&](const std::string& line) {
    try {
      llmsim::load_chip(llmsim::parse_doc(base + "\n" + line + "\n", "chip.yaml"));
    } catch (const llmsim::InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(bad("validation: {held_out_rows: 3, median_abs_error: 0.1, mean_speed_error: 0.2}").empty());
  CHECK(bad("validation: {held_out_rows: -1}").find(">= 0") != std::string::npos);
  CHECK(bad("validation: {held_out_rows: 3, median_abs_error: -0.1}").find("median_abs_error") != std::string::npos);
  CHECK(bad("validation: {held_out_rows: 3, speed: 0.2}").find("speed") != std::string::npos);  // unknown key
  CHECK_FALSE(bad("validation: 3").empty());

  const std::string out = make_tmpdir("chip_validation");
  REQUIRE(run_llmsim("run -t topologies/dgx-h100.yaml -w workloads/microbench-gemm.yaml -o " + out + "/r",
                     out + "/log") == 0);
  auto s = nlohmann::json::parse(slurp(out + "/r/summary.json"));
  const auto& v = s["validation"]["chips"]["nvidia-h100-sxm"];
  CHECK(v["held_out_rows"].get<int>() > 0);
  CHECK(v["note"].get<std::string>().find("held-out rows: mean speed error") != std::string::npos);
}

}  // namespace test_chip_validation
