// The YAML layer: parse_doc on arbitrary text (syntax, binary, include:), then a walk that
// reads every map through Fields with an accessor picked from the key's name, the way the
// loaders do, and finishes each map (unknown keys, nearest-name hints). Every read is
// guarded on its own so one bad field does not hide the rest of the tree from the fuzzer.
#include <functional>

#include "fuzz/fuzz_common.h"
#include "sim/core/yaml_doc.h"

using namespace llmsim;

namespace {

void read_key(Fields& f, const std::string& key, std::size_t h) {
  switch (h % 12) {
    case 0: (void)f.str(key); break;
    case 1: (void)f.str(key, "default"); break;
    case 2: (void)f.num(key); break;
    case 3: (void)f.num(key, 1.0); break;
    case 4: (void)f.integer(key, 0); break;
    case 5: (void)f.positive(key); break;
    case 6: (void)f.boolean(key, false); break;
    case 7: (void)f.qty(key, static_cast<Dim>(h / 12 % 8)); break;
    case 8: (void)f.qty(key, static_cast<Dim>(h / 12 % 8), 1.0); break;
    case 9: (void)f.choice(key, {"a", "switch", "ring", "torus"}, ""); break;
    case 10: (void)f.get(key); break;
    default: (void)f.opt(key); (void)f.pos(key); (void)f.has(key); break;
  }
}

void walk(const YAML::Node& node, const std::string& file, int depth) {
  if (depth > 64) return;  // the parser bounds nesting; this bounds the walk's own stack
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) walk(node[i], file, depth + 1);
    return;
  }
  if (!node.IsMap()) return;
  llmsim_fuzz::expect_contract([&] {
    Fields f(node, file, "fuzz");
    for (auto kv : node) {
      std::string key = kv.first.Scalar();
      llmsim_fuzz::expect_contract([&] { read_key(f, key, std::hash<std::string>()(key)); });
      walk(kv.second, file, depth + 1);
    }
    f.finish();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text = llmsim_fuzz::to_text(data, size);
  llmsim_fuzz::expect_contract([&] {
    // Named inside topologies/ so `include:` resolves against the shipped files.
    Doc doc = parse_doc(text, llmsim_fuzz::root() + "/topologies/fuzz-input.yaml");
    Fields top(doc, "root");
    for (auto kv : doc.root) {
      std::string key = kv.first.Scalar();
      (void)top.file_for(key);
      (void)pos_of(kv.second, doc.file_of(key));
    }
    // The root as loaders read it (Fields refuses values whose aliases expand past
    // kMaxAliasNodes); walking one of those would be the billion-laughs blow-up.
    llmsim_fuzz::expect_contract([&] {
      Fields f(doc, "fuzz");
      for (auto kv : doc.root) {
        std::string key = kv.first.Scalar();
        llmsim_fuzz::expect_contract([&] { read_key(f, key, std::hash<std::string>()(key)); });
        if (!doc.blocked.count(key)) walk(kv.second, doc.path, 1);
      }
      f.finish();
    });
  });
  return 0;
}
