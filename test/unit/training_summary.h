// Runs one training workload through the binary from the source root and returns
// summary.json's `training` block (the calibration-row tests share it).
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_outcome.h"

namespace llmsim_test {

// One ctest case is one process: the pid keeps parallel cases' output folders apart.
inline nlohmann::json train(const std::string& topo, const std::string& wl) {
  const std::string dir = "/tmp/llmsim-train-" + std::to_string(::getpid());
  Outcome o = run_cli("run --quiet -t " + topo + " -w " + wl + " -o " + dir);
  INFO(o.text);
  REQUIRE(o.rc == 0);
  nlohmann::json t = nlohmann::json::parse(slurp(dir + "/summary.json"))["training"];
  std::system(("rm -rf '" + dir + "'").c_str());
  return t;
}

}  // namespace llmsim_test
