// The bad-input corpus (test/bad-inputs/README.md): every file makes `llmsim check` exit 2
// with one positioned error line (plus an optional hint) and no stdout. Runs the real binary
// so exit codes and stream discipline are what a user sees.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace test_bad_inputs {

namespace fs = std::filesystem;

namespace {

const std::string kCorpus = std::string(LLMSIM_SOURCE_DIR) + "/test/bad-inputs/";

struct Result {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `llmsim check FILE` in `dir` (so FILE appears in the message as given).
Result run_check(const std::string& dir, const std::string& file) {
  fs::path err = fs::temp_directory_path() / ("llmsim-bad-" + std::to_string(::getpid()) + ".err");
  std::string cmd = "cd '" + dir + "' && '" + std::string(LLMSIM_BINARY) + "' check '" + file + "' 2>'" + err.string() + "'";
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(err.string());
  fs::remove(err);
  return r;
}

// Exit 2, nothing on stdout, "llmsim: error: FILE:LINE:COL: ..." and at most a hint line.
void expect_bad_input(const Result& r, const std::string& file, const std::string& fragment) {
  INFO("file: " << file << "\nstderr: " << r.err << "\nstdout: " << r.out);
  CHECK(r.rc == 2);
  CHECK(r.out.empty());
  std::vector<std::string> lines;
  std::stringstream ss(r.err);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  REQUIRE(!lines.empty());
  CHECK(lines.size() <= 2);
  if (lines.size() == 2) CHECK(lines[1].rfind("hint: ", 0) == 0);
  // The position may be in a file the input refers to (a node topology, a trace), so any
  // path is accepted, but it must have LINE:COL.
  std::regex head(R"(^llmsim: error: [^:]+:[0-9]+:[0-9]+: .+)");
  CHECK(std::regex_match(lines[0], head));
  CHECK(lines[0].find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("bad inputs: every corpus file is exit 2 with one positioned line", "[bad-inputs]") {
  std::ifstream in(kCorpus + "README.md");
  REQUIRE(in);
  std::vector<std::pair<std::string, std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, std::regex(R"(^\| ([^ |]+\.yaml) \| (.+?) \| .*\|$)"))) rows.push_back({m[1], m[2]});
  }
  // The manifest lists exactly the files present.
  std::vector<std::string> listed, present;
  for (const auto& r : rows) listed.push_back(r.first);
  for (const auto& e : fs::directory_iterator(kCorpus))
    if (e.path().extension() == ".yaml") present.push_back(e.path().filename().string());
  std::sort(listed.begin(), listed.end());
  std::sort(present.begin(), present.end());
  CHECK(listed == present);
  CHECK(rows.size() >= 30);
  for (const auto& [file, fragment] : rows) {
    SECTION(file) { expect_bad_input(run_check(kCorpus, file), file, fragment); }
  }
}

TEST_CASE("bad inputs: generated deep nesting, 10 MB and oversize files", "[bad-inputs]") {
  fs::path dir = fs::temp_directory_path() / ("llmsim-bad-gen-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  SECTION("100,000 nested '[' do not overflow the stack") {
    std::ofstream(dir / "deep.yaml") << "fabrics: " << std::string(100000, '[') << "\n";
    expect_bad_input(run_check(dir.string(), "deep.yaml"), "deep.yaml", "YAML syntax");
  }
  SECTION("a 10 MB topology reports the error on its last line, quickly") {
    {
      std::ofstream f(dir / "big.yaml");
      f << "name: big\ndevice: nvidia-h100-sxm\nsources:\n";
      std::string item = "  - \"a source key that is long enough to fill ten megabytes quickly\"\n";
      for (size_t written = 0; written < (10u << 20); written += item.size()) f << item;
      f << "count: 0\n";
    }
    REQUIRE(fs::file_size(dir / "big.yaml") > (10u << 20));
    auto t0 = std::chrono::steady_clock::now();
    Result r = run_check(dir.string(), "big.yaml");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    expect_bad_input(r, "big.yaml", "topology.count: must be a positive integer");
    CHECK(secs < 30);
  }
  SECTION("a file above the 64 MiB input limit is refused before parsing") {
    { std::ofstream(dir / "huge.yaml") << "name: x\n"; }
    fs::resize_file(dir / "huge.yaml", (65u << 20));  // sparse: costs no disk
    expect_bad_input(run_check(dir.string(), "huge.yaml"), "huge.yaml", "input files are limited to 64 MiB");
  }
  fs::remove_all(dir);
}

}  // namespace test_bad_inputs
