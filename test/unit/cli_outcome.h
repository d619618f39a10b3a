// Issue 16 tests: run `llmsim ARGS` from the source root and check what a user sees
// (exit status, one `llmsim: error:` line, time taken).
#pragma once
#include <algorithm>
#include <chrono>
#include <regex>

#include "cli_support.h"

namespace llmsim_test {

struct Outcome {
  int rc;
  std::string text;  // stdout and stderr
  double seconds;
};

// Under a 60 s timeout, so a hang fails instead of blocking the suite.
inline Outcome run_cli(const std::string& args) {
  auto t0 = std::chrono::steady_clock::now();
  auto [rc, text] = run_command("cd '" + kRoot + "' && timeout 60 '" + std::string(LLMSIM_BINARY) + "' " + args);
  return {rc, text, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

// Exit 2 and exactly one line, `llmsim: error: WHERE:LINE:COL: ...` containing `fragment`.
inline void one_error_line(const Outcome& o, const std::string& fragment) {
  INFO(o.text);
  CHECK(o.rc == 2);
  CHECK(std::count(o.text.begin(), o.text.end(), '\n') == 1);
  CHECK(std::regex_search(o.text, std::regex(R"(^llmsim: error: [^\n]*:[0-9]+:[0-9]+: )")));
  CHECK(o.text.find(fragment) != std::string::npos);
}

}  // namespace llmsim_test
