// Fitted constants are data with their source (issue 10): every chip's `fitted:` entry is
// a CALIBRATION row (or a published figure outside it, by its source key) or "inherited
// from CHIP (row)" where CHIP fitted that same parameter on that row; `llmsim devices` and summary.json show them,
// fabrics' in-switch figures too.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <regex>
#include <string>

#include "cli_support.h"
#include "sim/spec/chip.h"

namespace test_fitted {

using namespace llmsim_test;

TEST_CASE("fitted: each chip's entries are its own rows or name the chip they came from", "[fitted][catalog]") {
  llmsim::ChipCatalog cat(llmsim::default_catalog_dir());
  // A row is a CALIBRATION case (C1) or a published figure outside it ("[FA3-paper] ...").
  const std::string row = "(C[0-9]+|\\[[A-Za-z0-9-]+\\][^()]*)";
  const std::regex own(row), inherited("inherited from ([a-z0-9-]+)( [a-z_.]+)? \\(" + row + "\\)");
  int borrowed = 0;
  for (const auto* chip : cat.all()) {
    for (const auto& [param, src] : chip->fitted) {
      INFO(chip->name << " " << param << ": " << src);
      std::smatch m;
      if (std::regex_match(src, own)) continue;
      REQUIRE(std::regex_match(src, m, inherited));
      // The lender fitted the same parameter, or the one named (another tier's efficiency).
      const llmsim::ChipSpec& from = cat.get(m[1].str());
      const std::string lent = m[2].matched ? m[2].str().substr(1) : param;
      CHECK(from.fitted.count(lent) == 1);
      if (from.fitted.count(lent)) CHECK(from.fitted.at(lent) == m[3].str());  // the lender's own row
      ++borrowed;
    }
  }
  CHECK(borrowed > 0);
  CHECK(cat.get("nvidia-h100-sxm").fitted.at("compute.matrix_efficiency") == "C1");
}

TEST_CASE("fitted: devices and summary.json say which figures are borrowed", "[fitted][cli]") {
  auto [rc, text] = run_command("'" + std::string(LLMSIM_BINARY) + "' devices --format json 2>/dev/null");
  REQUIRE(rc == 0);
  auto j = nlohmann::json::parse(text);
  bool found = false;
  for (const auto& c : j) {
    if (c["name"] == "amd-mi300x") {
      found = true;
      CHECK(c["fitted"]["compute.matrix_efficiency"].get<std::string>().rfind("inherited from nvidia-h100-sxm", 0) == 0);
    }
  }
  CHECK(found);
  std::string out = make_tmpdir("fitted");
  REQUIRE(run_llmsim("run -t topologies/dgx-h200.yaml -w workloads/microbench-allreduce-1mib.yaml -o " + out + "/a",
                     out + "/log") == 0);
  auto s = nlohmann::json::parse(slurp(out + "/a/summary.json"));
  CHECK(s["fitted"]["fabrics"]["nvlink"]["source"].get<std::string>().rfind("inherited from", 0) == 0);
  CHECK(s["fitted"]["chips"]["nvidia-h200"]["compute.matrix_efficiency"].get<std::string>().rfind("inherited", 0) == 0);
  REQUIRE(run_llmsim("run -t topologies/dgx-h100.yaml -w workloads/microbench-allreduce-1mib.yaml -o " + out + "/b",
                     out + "/log") == 0);
  s = nlohmann::json::parse(slurp(out + "/b/summary.json"));
  CHECK(s["fitted"]["fabrics"]["nvlink"]["source"] == "CALIBRATION C3");
  std::system(("rm -rf '" + out + "'").c_str());
}

}  // namespace test_fitted
