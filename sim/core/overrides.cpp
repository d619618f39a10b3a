// `--set KEY=VALUE` overrides: parsed once, applied to a document's tree before validation.
#include <cstdlib>
#include <sstream>

#include "sim/core/yaml_doc.h"
#include "sim/core/yaml_tree_scan.h"

namespace llmsim {

Override parse_override(const std::string& arg) {
  Override o;
  o.text = arg;
  auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError({"--set", 1, 1}, "expected KEY=VALUE, got '" + arg + "'");
  }
  std::string key = arg.substr(0, eq);
  o.value = arg.substr(eq + 1);
  std::stringstream ss(key);
  std::string part;
  bool first = true;
  while (std::getline(ss, part, '.')) {
    if (part.empty()) throw InputError({"--set", 1, static_cast<int>(eq)}, "empty component in key '" + key + "'");
    if (first) { o.target = part; first = false; }
    else o.path.push_back(part);
  }
  if (o.path.empty()) {
    throw InputError({"--set", 1, 1}, "key '" + key +
                                          "' must name a document and a field, e.g. workload.parallelism.tp");
  }
  return o;
}

namespace {

// Marks every node of an override value with where it came from (see kOverrideTag).
void tag_override(YAML::Node node, const std::string& where) {
  std::string tag = kOverrideTag + where;
  if (node.IsScalar() && node.Tag() == "!") tag += ":q";
  for (auto it = node.begin(); node.IsMap() && it != node.end(); ++it) {
    tag_override(it->first, where);  // so an unknown key inside the value points into --set
    tag_override(it->second, where);
  }
  for (auto it = node.begin(); node.IsSequence() && it != node.end(); ++it) tag_override(*it, where);
  node.SetTag(tag);
}

bool has_key(const YAML::Node& map, const std::string& k) {
  for (auto it = map.begin(); map.IsMap() && it != map.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == k) return true;
  return false;
}

// A key the override adds has no position in any file (yaml-cpp gives it none): tag it with
// its own column in the --set argument, so "unknown field 'x'" points there, not at 1:1 of
// the base file.
void tag_added_key(YAML::Node map, const std::string& k, const std::string& where) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar() != k) continue;
    YAML::Node key = it->first;
    key.SetTag(kOverrideTag + where);
  }
}

}  // namespace

void apply_overrides(Doc& doc, const std::string& target, const std::vector<Override>& overrides) {
  for (size_t index = 0; index < overrides.size(); ++index) {
    const Override& o = overrides[index];
    if (o.target != target) continue;
    YAML::Node value;
    if (std::size_t bad = first_invalid_utf8(o.value); bad != std::string::npos) {
      throw InputError({"--set", static_cast<int>(index + 1), static_cast<int>(o.text.find('=') + 2 + bad)},
                       "'" + o.text.substr(0, o.text.find('=')) + "': the value is not valid UTF-8");
    }
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::Exception& e) {
      throw InputError({"--set", 1, static_cast<int>(o.text.find('=') + 2)}, "bad value in '" + o.text + "': " + e.msg);
    }
    if (!value) value = YAML::Node("");
    int value_col = static_cast<int>(o.text.find('=') + 2);
    try {  // before tag_override walks it: repeated keys, aliases that expand too far
      TreeScan scan(o.value, "--set");
      std::uint64_t added = scan.scan(value);
      if (added > kMaxAliasNodes) throw scan.too_large(o.text.substr(0, o.text.find('=')), added);
    } catch (const InputError& e) {
      throw InputError({"--set", static_cast<int>(index + 1), value_col + e.pos().col - 1}, e.what());
    }
    tag_override(value, std::to_string(index + 1) + ":" + std::to_string(value_col));
    // Walk with nodes; yaml-cpp nodes are handles, so assigning through them edits the tree.
    YAML::Node cur = doc.root;
    int key_col = static_cast<int>(o.target.size()) + 2;  // 1-based column of path component i
    for (size_t i = 0; i < o.path.size(); ++i) {
      const std::string& k = o.path[i];
      bool last = i + 1 == o.path.size();
      const std::string key_where = std::to_string(index + 1) + ":" + std::to_string(key_col);
      key_col += static_cast<int>(k.size()) + 1;
      if (cur.IsSequence()) {
        char* end = nullptr;
        long idx = std::strtol(k.c_str(), &end, 10);
        if (*end != 0 || idx < 0 || static_cast<size_t>(idx) >= cur.size()) {
          throw InputError({"--set", 1, 1}, "'" + o.text + "': '" + k + "' is not an index of the list at " +
                                                pos_of(cur, doc.path).str() + " (it has " +
                                                std::to_string(cur.size()) + " items)");
        }
        if (last) { cur[idx] = value; break; }
        YAML::Node next = cur[idx];
        cur.reset(next);
      } else if (cur.IsMap() || cur.IsNull()) {
        const bool added = !has_key(cur, k);
        if (last) {
          cur[k] = value;
          if (added) tag_added_key(cur, k, key_where);
          if (i == 0) doc.key_file[k] = doc.file_of(k);
          if (i == 0) doc.blocked.erase(k);
          break;
        }
        YAML::Node next = cur[k];
        if (!next || next.IsNull()) {
          cur[k] = YAML::Node(YAML::NodeType::Map);
          next = cur[k];
        }
        if (added) tag_added_key(cur, k, key_where);
        cur.reset(next);
      } else {
        throw InputError({"--set", 1, 1}, "'" + o.text + "': cannot descend into the scalar at " +
                                              pos_of(cur, doc.path).str());
      }
    }
  }
}

}  // namespace llmsim
