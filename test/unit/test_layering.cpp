// The folders of sim/ and models/ form layers (issue 10): docs/architecture.md "Layers"
// declares their order, lowest first, and a file may include only from its own folder or
// a folder below it. So the folder graph has no cycle. These tests scan every
// `#include "..."` of sim/ and models/ and report each offending line as FILE:LINE.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace test_layering {

namespace fs = std::filesystem;

namespace {

const std::string kRepo = LLMSIM_SOURCE_DIR;

// An include from one folder into another, with where it is written.
struct FolderEdge {
  std::string from, to;
  std::string where;  // FILE:LINE: #include "..."
};

// The layer a path belongs to: "models" for models/..., "sim/X" for sim/X/...; "" for
// anything else (system headers, test helpers, SystemC's own "sysc/..." headers).
std::string folder_of(const std::string& path) {
  if (path.rfind("models/", 0) == 0) return "models";
  if (path.rfind("sim/", 0) != 0) return "";
  const size_t slash = path.find('/', 4);
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::vector<FolderEdge> scan_includes(std::set<std::string>& folders) {
  static const std::regex include_re(R"(^\s*#\s*include\s*"([^"]+)\")");
  std::vector<fs::path> files;
  for (const char* dir : {"sim", "models"}) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(kRepo) / dir)) {
      const std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".h" || ext == ".cpp")) files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<FolderEdge> edges;
  for (const auto& p : files) {
    const std::string rel = fs::relative(p, kRepo).string();
    const std::string from = folder_of(rel);
    folders.insert(from);
    std::ifstream in(p);
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      std::smatch m;
      if (!std::regex_search(line, m, include_re)) continue;
      const std::string to = folder_of(m[1].str());
      if (!to.empty() && to != from) edges.push_back({from, to, rel + ":" + std::to_string(n) + ": " + line});
    }
  }
  return edges;
}

// The declared order: the line of docs/architecture.md that reads `a` < `b` < ...
std::vector<std::string> declared_layers() {
  std::ifstream in(fs::path(kRepo) / "docs/architecture.md");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("`sim/core` <", 0) != 0) continue;
    std::vector<std::string> layers;
    static const std::regex name_re("`([^`]+)`");
    for (std::sregex_iterator it(line.begin(), line.end(), name_re), end; it != end; ++it) layers.push_back((*it)[1]);
    return layers;
  }
  return {};
}

// One cycle of the folder graph as its folders (first repeated at the end), or empty.
std::vector<std::string> find_cycle(const std::vector<FolderEdge>& edges) {
  std::map<std::string, std::set<std::string>> next;
  for (const auto& e : edges) next[e.from].insert(e.to);
  std::map<std::string, int> state;  // 0 unseen, 1 on the path, 2 done
  std::vector<std::string> path, cycle;
  std::function<bool(const std::string&)> visit = [&](const std::string& f) {
    state[f] = 1;
    path.push_back(f);
    for (const auto& t : next[f]) {
      if (state[t] == 1) {
        cycle.assign(std::find(path.begin(), path.end(), t), path.end());
        cycle.push_back(t);
        return true;
      }
      if (state[t] == 0 && visit(t)) return true;
    }
    path.pop_back();
    state[f] = 2;
    return false;
  };
  for (const auto& [f, _] : next) {
    if (state[f] == 0 && visit(f)) break;
  }
  return cycle;
}

std::string lines_of_cycle(const std::vector<std::string>& cycle, const std::vector<FolderEdge>& edges) {
  std::ostringstream os;
  for (size_t i = 0; i + 1 < cycle.size(); ++i) {
    for (const auto& e : edges) {
      if (e.from == cycle[i] && e.to == cycle[i + 1]) os << "  " << e.where << "\n";
    }
  }
  return os.str();
}

}  // namespace

TEST_CASE("layering: the cycle finder names a cycle and its include lines", "[layering]") {
  std::vector<FolderEdge> edges = {{"sim/a", "sim/b", "a.h:1"}, {"sim/b", "sim/c", "b.h:2"}, {"sim/c", "sim/a", "c.h:3"},
                                   {"sim/a", "sim/d", "a.h:4"}};
  const auto cycle = find_cycle(edges);
  CHECK(cycle == std::vector<std::string>{"sim/a", "sim/b", "sim/c", "sim/a"});
  CHECK(lines_of_cycle(cycle, edges) == "  a.h:1\n  b.h:2\n  c.h:3\n");
  edges.pop_back();
  edges.erase(edges.begin() + 2);
  CHECK(find_cycle(edges).empty());
  CHECK(folder_of("sim/net/algorithms/ring.cpp") == "sim/net");
  CHECK(folder_of("models/tier_models/dram_channel.h") == "models");
  CHECK(folder_of("sysc/tracing/sc_tracing_ids.h").empty());
}

TEST_CASE("layering: no include cycle between the folders of sim/ and models/", "[layering]") {
  std::set<std::string> folders;
  const auto edges = scan_includes(folders);
  // The scan sees the real tree: models/ does use the event queue of sim/core/.
  REQUIRE(std::any_of(edges.begin(), edges.end(), [](const FolderEdge& e) { return e.from == "models" && e.to == "sim/core"; }));
  const auto cycle = find_cycle(edges);
  std::string text;
  for (const auto& f : cycle) text += (text.empty() ? "" : " -> ") + f;
  INFO("folder include cycle " << text << ", through:\n" << lines_of_cycle(cycle, edges));
  CHECK(cycle.empty());
}

TEST_CASE("layering: every folder includes only from folders below it in docs/architecture.md", "[layering]") {
  const auto layers = declared_layers();
  REQUIRE(layers.size() >= 2);
  std::map<std::string, size_t> rank;
  for (size_t i = 0; i < layers.size(); ++i) rank[layers[i]] = i;
  std::set<std::string> folders;
  const auto edges = scan_includes(folders);
  std::string unplaced, upward;
  for (const auto& f : folders) {
    if (!f.empty() && !rank.count(f)) unplaced += "  " + f + "\n";
  }
  for (const auto& e : edges) {
    if (rank.count(e.from) && rank.count(e.to) && rank[e.to] > rank[e.from]) {
      upward += "  " + e.where + "  (" + e.from + " includes " + e.to + ", a higher layer)\n";
    }
  }
  INFO("folders missing from the layer order of docs/architecture.md:\n" << unplaced);
  CHECK(unplaced.empty());
  INFO("includes from a lower layer into a higher one:\n" << upward);
  CHECK(upward.empty());
}

}  // namespace test_layering
