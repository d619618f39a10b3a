// Issue 16, everyday use: inputs a new user hits, through the binary (exit status, one
// `llmsim: error:` line, no hang). Inputs live in test/bad-inputs/ and test/data/cli/.
#include <chrono>
#include <regex>

#include "cli_support.h"

using namespace llmsim_test;

namespace {

const std::string kBin = LLMSIM_BINARY;

struct Outcome {
  int rc;
  std::string text;  // stdout and stderr
  double seconds;
};

// Runs `llmsim ARGS` from the source root under a 60 s timeout (a hang fails, not blocks).
Outcome llmsim(const std::string& args) {
  auto t0 = std::chrono::steady_clock::now();
  auto [rc, text] = run_command("cd '" + kRoot + "' && timeout 60 '" + kBin + "' " + args);
  return {rc, text, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

// Exactly one line, `llmsim: error: WHERE:LINE:COL: ...` containing `fragment`.
void one_error_line(const Outcome& o, const std::string& fragment) {
  INFO(o.text);
  CHECK(o.rc == 2);
  CHECK(std::count(o.text.begin(), o.text.end(), '\n') == 1);
  CHECK(std::regex_search(o.text, std::regex(R"(^llmsim: error: [^\n]*:[0-9]+:[0-9]+: )")));
  CHECK(o.text.find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("billion laughs: aliases that expand too far are exit 2 naming the anchor, at once", "[cli16]") {
  Outcome o = llmsim("check test/bad-inputs/yaml-billion-laughs.yaml");
  one_error_line(o, "anchor 'i'");
  CHECK(o.text.find("yaml-billion-laughs.yaml:11:") != std::string::npos);  // where &i is
  CHECK(o.seconds < 5);
  std::string out = make_tmpdir("laughs");
  o = llmsim("run -t topologies/dgx-h100.yaml -w test/bad-inputs/yaml-billion-laughs.yaml -o " + out + " --quiet");
  one_error_line(o, "anchor 'i'");
  CHECK(!exists(out + "/summary.json"));
  CHECK(o.seconds < 5);
  // Under keys the schema does not know, the unknown key is what the user hears first.
  o = llmsim("check test/bad-inputs/yaml-billion-laughs-unknown-key.yaml");
  one_error_line(o, "unknown field 'lol'");
  CHECK(o.seconds < 5);
  // The same document through --set: refused before the override is applied.
  std::string lol = "{a: &a [l, l, l, l, l, l, l, l, l]";
  for (char c = 'b', prev = 'a'; c <= 'i'; prev = c++) {
    lol += std::string(", ") + c + ": &" + c + " [";
    for (int k = 0; k < 9; ++k) lol += std::string(k ? ", " : "") + "*" + prev;
    lol += "]";
  }
  o = llmsim("check topologies/dgx-h100.yaml --set 'topology.sources=" + lol + "}'");
  one_error_line(o, "anchor 'h'");
  CHECK(o.text.find("--set:1:") != std::string::npos);
  CHECK(o.seconds < 5);
  // Aliases within the bound still work.
  o = llmsim("check topologies/dgx-h100.yaml --set 'topology.sources=[&s x, *s, *s]'");
  CHECK(o.rc == 0);
}
