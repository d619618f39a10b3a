// `--set` parsing and application. Input: leading lines are override arguments
// ("topology.fabrics.0.link.bandwidth=400 GB/s") up to the first empty line; the rest is
// the document they apply to (a fixed small topology when it does not parse). After
// applying, the edited tree must still serialise and re-parse within the contract.
#include <sstream>

#include "fuzz/fuzz_common.h"
#include "sim/core/yaml_doc.h"

using namespace llmsim;

namespace {
const char* kDefaultDoc =
    "name: fuzz\ndevice: nvidia-h100-sxm\ncount: 8\n"
    "fabrics:\n  - {name: nvlink, type: nvlink, shape: switch, link: {bandwidth: 450 GB/s, latency: 1 us}}\n";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text = llmsim_fuzz::to_text(data, size);
  std::size_t split = text.find("\n\n");
  std::string args = split == std::string::npos ? text : text.substr(0, split);
  std::string body = split == std::string::npos ? "" : text.substr(split + 2);
  std::string name = llmsim_fuzz::root() + "/topologies/fuzz-input.yaml";

  std::vector<Override> overrides;
  std::istringstream lines(args);
  std::string line;
  while (std::getline(lines, line) && overrides.size() < 16) {
    llmsim_fuzz::expect_contract([&] { overrides.push_back(parse_override(line)); });
  }
  llmsim_fuzz::expect_contract([&] {
    Doc doc;
    try {
      doc = parse_doc(body, name);
    } catch (const InputError&) {
      doc = parse_doc(kDefaultDoc, name);
    }
    for (const char* target : {"topology", "workload"}) apply_overrides(doc, target, overrides);
    YAML::Emitter out;
    out << doc.root;
    if (out.good()) (void)parse_doc(out.c_str(), name);
  });
  return 0;
}
