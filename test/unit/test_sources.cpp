// docs/sources.md must define every source key, calibration id and CHIPS.md section that
// the repository cites, so a reader can check any figure from the repository alone. The
// scan covers topologies/ and workloads/ YAML, docs/*.md, README.md and the comments of
// sim/, models/ and test/ C++; each undefined citation is reported as FILE:LINE.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sources_scan.h"

namespace test_sources {

using namespace llmsim_test;
namespace fs = std::filesystem;

namespace {

const std::string kRepo = LLMSIM_SOURCE_DIR;

struct Citation {
  std::string where;  // FILE:LINE, FILE relative to the repository
  std::string what;   // `[KEY]`, `C12` or `CHIPS.md §4`
};

struct AllCitations {
  std::vector<Citation> keys, calibration, sections;
};

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Files to scan, each with its kind, in a stable order.
std::vector<std::pair<fs::path, TextKind>> scanned_files() {
  std::vector<std::pair<fs::path, TextKind>> files;
  auto walk = [&](const std::string& dir, const std::set<std::string>& exts, TextKind kind,
                  bool recursive) {
    const fs::path root = fs::path(kRepo) / dir;
    if (!fs::exists(root)) return;
    auto take = [&](const fs::directory_entry& e) {
      if (e.is_regular_file() && exts.count(e.path().extension().string()))
        files.emplace_back(e.path(), kind);
    };
    if (recursive) for (const auto& e : fs::recursive_directory_iterator(root)) take(e);
    else for (const auto& e : fs::directory_iterator(root)) take(e);
  };
  walk("topologies", {".yaml", ".yml"}, TextKind::Yaml, true);
  walk("workloads", {".yaml", ".yml"}, TextKind::Yaml, true);
  walk("docs", {".md"}, TextKind::Markdown, false);
  walk("sim", {".h", ".cpp"}, TextKind::Cpp, true);
  walk("models", {".h", ".cpp"}, TextKind::Cpp, true);
  walk("test", {".h", ".cpp"}, TextKind::Cpp, true);
  files.emplace_back(fs::path(kRepo) / "README.md", TextKind::Markdown);
  std::sort(files.begin(), files.end());
  return files;
}

AllCitations scan_repository() {
  AllCitations all;
  for (const auto& [path, kind] : scanned_files()) {
    const std::string rel = fs::relative(path, kRepo).string();
    ScanState st;
    const auto lines = lines_of(path);
    for (size_t n = 0; n < lines.size(); ++n) {
      const std::string where = rel + ":" + std::to_string(n + 1);
      for (const std::string& prose : prose_of(lines[n], kind, st)) {
        for (const auto& k : keys_in(prose)) all.keys.push_back({where, "[" + k + "]"});
        for (int c : calibration_ids_in(prose))
          all.calibration.push_back({where, "C" + std::to_string(c)});
        for (const auto& s : chips_sections_in(prose))
          all.sections.push_back({where, "CHIPS.md " + s});
      }
    }
  }
  return all;
}

// One table row of docs/sources.md, split into trimmed cells.
std::vector<std::string> cells_of(const std::string& row) {
  std::vector<std::string> cells;
  std::stringstream ss(row.substr(1));
  for (std::string c; std::getline(ss, c, '|');) {
    const size_t a = c.find_first_not_of(' '), b = c.find_last_not_of(' ');
    cells.push_back(a == std::string::npos ? "" : c.substr(a, b - a + 1));
  }
  return cells;
}

// What docs/sources.md defines: table rows whose first cell is a key, a calibration id or
// a section id. Rows are kept whole so the format checks can look at every cell.
struct Definitions {
  std::map<std::string, std::vector<std::vector<std::string>>> keys;  // `[KEY]` -> rows
  std::map<int, std::vector<std::string>> calibration;
  std::map<int, int> calibration_count;
  std::set<std::string> sections;
};

Definitions read_sources_md() {
  Definitions d;
  static const std::regex cal(R"(C([0-9]+))");
  static const std::regex section(R"(§[0-9]+|[SE][0-9]+|Part [A-D])");
  for (const auto& line : lines_of(fs::path(kRepo) / "docs" / "sources.md")) {
    if (line.rfind("| ", 0) != 0) continue;
    const auto cells = cells_of(line);
    if (cells.empty()) continue;
    const std::string& first = cells[0];
    std::smatch m;
    if (first.size() > 2 && first.front() == '[' && first.back() == ']') {
      d.keys[first].push_back(cells);
    } else if (std::regex_match(first, m, cal)) {
      d.calibration[std::stoi(m[1])] = cells;
      ++d.calibration_count[std::stoi(m[1])];
    } else if (std::regex_match(first, section)) {
      d.sections.insert(first);
    }
  }
  return d;
}

std::string report(const std::vector<Citation>& missing) {
  std::string s;
  for (const auto& c : missing) s += c.where + ": " + c.what + " not defined in docs/sources.md\n";
  return s;
}

}  // namespace

TEST_CASE("sources: the scanner finds keys in prose and nothing in links, code or data",
          "[sources]") {
  ScanState md, yaml;
  // Markdown: links, link definitions and code spans are not citations; tagged keys are.
  CHECK(keys_in("see [docs/models.md](docs/models.md) and ✔ [TPUv4-doc], [ScalingBook]") ==
        std::vector<std::string>{"TPUv4-doc", "ScalingBook"});
  CHECK(keys_in("[ref]: https://example.org").empty());
  CHECK(keys_in("the [calibration] tests, a [i] index").empty());
  CHECK(keys_in("6 TB/s ✱ [wiaix]; tiles ✱ [GC-flashcards] [hexus]") ==
        std::vector<std::string>{"wiaix", "GC-flashcards", "hexus"});
  CHECK(keys_in("[NV-DGXB200 via wiki] (✱)") == std::vector<std::string>{"NV-DGXB200 via wiki"});
  CHECK(markdown_prose("tag `[NV-H100-WP]` in code", md) ==
        std::vector<std::string>{"tag   in code"});
  // YAML: flow lists are data; comments, quoted strings and block scalars are prose.
  CHECK(yaml_prose("architectures: [LlamaForCausalLM]", yaml).empty());
  CHECK(yaml_prose("  units: 132   # SMs ✱ [K-H100]", yaml) ==
        std::vector<std::string>{"# SMs ✱ [K-H100]"});
  CHECK(yaml_prose("  - \"CHIPS.md §1 [NV-H100-WP]\"", yaml) ==
        std::vector<std::string>{"CHIPS.md §1 [NV-H100-WP]"});
  CHECK(yaml_prose("notes: >", yaml).empty());
  CHECK(yaml_prose("  chip headline ✔ [TT-tech]", yaml) ==
        std::vector<std::string>{"  chip headline ✔ [TT-tech]"});
  CHECK(yaml_prose("next: [a, b]", yaml).empty());  // the block ended
  // C++: comments only; indexing and math are not keys.
  CHECK(cpp_prose("x = a[N];  // hbm (CHIPS.md E2, [E-FGDRAM])") ==
        std::vector<std::string>{"// hbm (CHIPS.md E2, [E-FGDRAM])"});
  CHECK(keys_in("// E[X] = exp(mu), dirlinks[i]").empty());
  // Calibration ids and spec sheet sections.
  CHECK(calibration_ids_in("C1 (GEMM), C2C links, C13-C43, SC23") == std::vector<int>{1, 13, 43});
  CHECK(chips_sections_in("CHIPS.md sections 1-11, S1-S11, E1-E5 (keys") ==
        std::vector<std::string>{"§1", "§11", "S1", "S11", "E1", "E5"});
  CHECK(chips_sections_in("CHIPS.md §6, S5 [TPUv4-doc]; CHIPS.md E2's example; CHIPS.md Part C") ==
        std::vector<std::string>{"§6", "S5", "E2", "Part C"});
  CHECK(chips_sections_in("CHIPS.md section 6. Dense; CHIPS.md keys").size() == 1);
}

// The two repository scans are `[slow]`: text over every file, ~10-13 s each under ASan
// for no memory-safety content beyond the scanner, which the unit cases above exercise.
TEST_CASE("sources: every cited source key is defined in docs/sources.md", "[sources][slow]") {
  const AllCitations all = scan_repository();
  const Definitions defs = read_sources_md();
  // The scan must see the citations we know are there, or an empty scan would pass.
  bool h100 = false;
  for (const auto& c : all.keys)
    h100 |= c.what == "[NV-H100-WP]" &&
            c.where.rfind("topologies/devices/nvidia-h100-sxm.yaml:", 0) == 0;
  CHECK(h100);
  CHECK(all.keys.size() > 200);
  std::vector<Citation> missing;
  for (const auto& c : all.keys)
    if (!defs.keys.count(c.what)) missing.push_back(c);
  INFO(report(missing));
  CHECK(missing.empty());
}

TEST_CASE("sources: every cited calibration id and CHIPS.md section is defined", "[sources][slow]") {
  const AllCitations all = scan_repository();
  const Definitions defs = read_sources_md();
  CHECK(all.calibration.size() > 50);
  CHECK(all.sections.size() > 20);
  std::vector<Citation> missing;
  for (const auto& c : all.calibration)
    if (!defs.calibration.count(std::stoi(c.what.substr(1)))) missing.push_back(c);
  for (const auto& c : all.sections)
    if (!defs.sections.count(c.what.substr(std::string("CHIPS.md ").size()))) missing.push_back(c);
  INFO(report(missing));
  CHECK(missing.empty());
}

TEST_CASE("sources: each definition in docs/sources.md is complete and defined once",
          "[sources]") {
  const Definitions defs = read_sources_md();
  REQUIRE(defs.keys.size() > 100);
  static const std::regex year(R"(\b(19|20)[0-9]{2}\b)");
  for (const auto& [key, rows] : defs.keys) {
    INFO(key);
    CHECK(rows.size() == 1);
    CHECK(key_shaped(key.substr(1, key.size() - 2)));
    const auto& r = rows.front();
    REQUIRE(r.size() == 6);  // key, tag, title, author / publisher, date, address
    CHECK(r[2].size() > 5);
    CHECK(!r[3].empty());
    // A date has a year; where the upstream gives none the row must say so, not stay blank.
    CHECK((std::regex_search(r[4], year) || r[4].find("not given") != std::string::npos));
    CHECK(!r[5].empty());
  }
  // Calibration rows run C1, C2, ... with no gap or repeat, each with all four cells.
  REQUIRE(!defs.calibration.empty());
  int expect = 1;
  for (const auto& [id, cells] : defs.calibration) {
    INFO("C" << id);
    CHECK(id == expect++);
    CHECK(defs.calibration_count.at(id) == 1);
    REQUIRE(cells.size() == 4);
    for (const auto& c : cells) CHECK(!c.empty());
  }
  CHECK(defs.calibration.size() >= 43);
}

}  // namespace test_sources
