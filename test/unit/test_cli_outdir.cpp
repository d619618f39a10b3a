// Issue 16: `run -o DIR` is checked (and created) before anything is loaded or simulated,
// through the binary.
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_outcome.h"

namespace test_cli_outdir {

using namespace llmsim_test;

namespace {

const std::string kGemm = " -t topologies/dgx-h100.yaml -w workloads/microbench-gemm.yaml --quiet";

}  // namespace

TEST_CASE("a bad -o is exit 2 naming the path, before the workload is loaded", "[cli16]") {
  std::string tmp = make_tmpdir("outdir");
  std::ofstream(tmp + "/file") << "not a directory\n";
  // An existing file: it simulated, then failed with exit 1 "internal error".
  Outcome o = run_cli("run" + kGemm + " -o " + tmp + "/file");
  one_error_line(o, "-o:1:1: output directory '" + tmp + "/file' exists and is not a directory");
  CHECK(slurp(tmp + "/file") == "not a directory\n");
  // A path under a file.
  o = run_cli("run" + kGemm + " -o " + tmp + "/file/sub");
  one_error_line(o, "output directory '" + tmp + "/file/sub' cannot be created");
  // A place no file can be written (even by root).
  o = run_cli("run" + kGemm + " -o /proc");
  one_error_line(o, "output directory '/proc' is not writable");
  // Checked first: the workload is never opened.
  o = run_cli("run -t topologies/dgx-h100.yaml -w no-such-workload.yaml -o " + tmp + "/file");
  one_error_line(o, "exists and is not a directory");
  // A good -o is created, parents included, before the run.
  o = run_cli("run" + kGemm + " -o " + tmp + "/a/b/c");
  CHECK(o.rc == 0);
  CHECK(exists(tmp + "/a/b/c/summary.json"));
}

TEST_CASE("an empty -o is refused (it wrote summary.json into /)", "[cli16]") {
  bool had = exists("/summary.json");
  Outcome o = run_cli("run" + kGemm + " -o ''");
  one_error_line(o, "-o:1:1: the output directory is empty");
  if (!had) CHECK(!exists("/summary.json"));
}

TEST_CASE("a failed run leaves none of the files of the previous run in -o", "[cli16]") {
  std::string out = make_tmpdir("stale");
  std::ofstream(out + "/notes.txt") << "mine\n";
  REQUIRE(run_cli("run" + kGemm + " -o " + out + " --timeline").rc == 0);
  REQUIRE(exists(out + "/summary.json"));
  REQUIRE(exists(out + "/timeline.json"));
  // They stayed and read as this run's results.
  Outcome o = run_cli("run -t topologies/dgx-h100.yaml -w test/bad-inputs/topo-misspelt-device.yaml -o " + out);
  CHECK(o.rc == 2);
  CHECK(!exists(out + "/summary.json"));
  CHECK(!exists(out + "/timeline.json"));
  CHECK(slurp(out + "/notes.txt") == "mine\n");  // only our own files are removed
  // A run without --timeline leaves no older timeline.json beside its summary.
  REQUIRE(run_cli("run" + kGemm + " -o " + out + " --timeline").rc == 0);
  REQUIRE(run_cli("run" + kGemm + " -o " + out).rc == 0);
  CHECK(exists(out + "/summary.json"));
  CHECK(!exists(out + "/timeline.json"));
}

TEST_CASE("docs/inference.md Outputs names exactly the keys of the inference block of summary.json", "[cli16]") {
  std::string out = make_tmpdir("kvdocs");
  Outcome o = run_cli("run -t topologies/dgx-h100.yaml -w test/data/cli/serve-disagg.yaml -o " + out + " --quiet");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  auto inference = nlohmann::json::parse(slurp(out + "/summary.json"))["inference"];
  std::string docs = slurp(kRoot + "/docs/inference.md");
  auto a = docs.find("summary.json `inference`:");
  REQUIRE(a != std::string::npos);
  std::string para = docs.substr(a, docs.find(". TPOT =", a) - a);
  std::set<std::string> documented;
  std::regex key("`([a-z_0-9]+)`");
  for (auto it = std::sregex_iterator(para.begin(), para.end(), key); it != std::sregex_iterator(); ++it)
    documented.insert((*it)[1]);
  documented.erase("inference");
  // The docs said kv_blocks_per_replica; the output has kv_blocks_per_engine.
  for (const auto& k : documented) {
    INFO("documented, not in summary.json: " << k);
    CHECK(inference.contains(k));
  }
  for (const auto& kv : inference.items()) {
    INFO("in summary.json, not documented: " << kv.key());
    CHECK(documented.count(kv.key()) == 1);
  }
}

}  // namespace test_cli_outdir
