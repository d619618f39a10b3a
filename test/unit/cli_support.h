// Helpers for tests that run the llmsim binary as a subprocess (SystemC runs once per
// process, so whole runs are tested one process each; docs/architecture.md).
#pragma once
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace llmsim_test {

inline const std::string kRoot = LLMSIM_SOURCE_DIR;

inline bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

inline std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory /tmp/llmsim-TAG-XXXXXX.
inline std::string make_tmpdir(const std::string& tag) {
  std::string tmpl = "/tmp/llmsim-" + tag + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back(0);
  REQUIRE(::mkdtemp(buf.data()) != nullptr);
  return buf.data();
}

// Runs the binary from the source root with `env` assignments prepended; stdout and stderr
// go to `log`. Returns the exit status (-1 if it did not exit normally).
inline int run_llmsim(const std::string& args, const std::string& log, const std::string& env = "") {
  std::string cmd = "cd '" + kRoot + "' && " + env + " '" + std::string(LLMSIM_BINARY) + "' " + args + " >'" +
                    log + "' 2>&1";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Runs a shell command; returns (exit status, stdout and stderr combined).
inline std::pair<int, std::string> run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::array<char, 4096> buf{};
  while (size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// Column `name` of every row of a CSV text with a header line (requests.csv), as numbers.
inline std::vector<double> csv_column(const std::string& csv, const std::string& name) {
  std::stringstream in(csv);
  std::string line, f;
  std::getline(in, line);
  std::stringstream hs(line);
  int col = -1;
  for (int i = 0; std::getline(hs, f, ','); ++i)
    if (f == name) col = i;
  REQUIRE(col >= 0);
  std::vector<double> out;
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    for (int i = 0; std::getline(ls, f, ','); ++i)
      if (i == col) out.push_back(std::stod(f));
  }
  return out;
}

inline int run_llmsim_env(const std::string& env, const std::string& args, const std::string& log) {
  return run_llmsim(args, log, env);
}

}  // namespace llmsim_test
