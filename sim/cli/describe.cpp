// `llmsim describe KIND`: every field of a chip / topology / workload file, printed from the
// same declarations the loaders read with (sim/core/params.h), so the list cannot drift.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/cli/text_table.h"
#include "sim/core/params.h"
#include "sim/net/collective_library.h"

namespace llmsim {
namespace {

struct Row {
  std::string field, type, unit, def, doc, source;
};

// "chip.compute.tile" + "m" -> "compute.tile.m"; "workload:microbench.ops[gemm]" -> "ops[gemm].m".
std::string field_path(const ParamSection& s, const ParamDecl& d) {
  std::string prefix = s.path.size() > s.kind.size() ? s.path.substr(s.kind.size() + 1) : "";
  return prefix.empty() ? d.name : prefix + "." + d.name;
}

std::string type_text(const ParamDecl& d) {
  std::string t = param_type_name(d.type);
  if (d.type == ParamType::Choice) {
    t = "one of ";
    for (size_t i = 0; i < d.choices.size(); ++i) t += (i ? "|" : "") + d.choices[i];
  }
  return t;
}

std::string default_text(const ParamDecl& d) {
  if (d.required) return "(required)";
  if (d.derived) return "= " + d.def;
  if (d.def.empty()) return d.type == ParamType::String ? "\"\"" : "(none)";
  return d.def;
}

std::vector<Row> rows_of(const std::vector<const ParamSection*>& sections) {
  std::vector<Row> rows;
  for (const ParamSection* s : sections) {
    for (const ParamDecl& d : s->params) {
      rows.push_back({field_path(*s, d), type_text(d), d.unit_text(), default_text(d), d.doc, d.source});
    }
  }
  return rows;
}

void print_yaml(const std::string& kind, const std::vector<Row>& rows, std::ostream& out) {
  YAML::Emitter em;
  em << YAML::BeginMap << YAML::Key << "kind" << YAML::Value << kind << YAML::Key << "fields" << YAML::Value
     << YAML::BeginSeq;
  for (const Row& r : rows) {
    em << YAML::BeginMap << YAML::Key << "field" << YAML::Value << r.field << YAML::Key << "type" << YAML::Value
       << r.type << YAML::Key << "unit" << YAML::Value << r.unit << YAML::Key << "default" << YAML::Value << r.def
       << YAML::Key << "doc" << YAML::Value << r.doc << YAML::Key << "source" << YAML::Value << r.source
       << YAML::EndMap;
  }
  em << YAML::EndSeq << YAML::EndMap;
  out << em.c_str() << "\n";
}

// `describe collectives` also lists the shipped libraries' figures with their sources, so a
// figure one library borrows from another reads "inherited from ..." where users look.
void print_shipped_libraries(std::ostream& out) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(default_collective_dir(), ec))
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  out << "\nshipped libraries (" << default_collective_dir() << ")\n";
  TextTable t({"LIBRARY", "FIGURE", "SOURCE"});
  for (const auto& f : files) {
    LibraryPtr lib = load_collective_library_file(f);
    for (const auto& kv : lib->sources) t.add({lib->name, kv.first, kv.second});
  }
  t.print(out);
}

}  // namespace

int cmd_describe(const DescribeArgs& args, std::ostream& out) {
  std::vector<std::string> kinds = ParamRegistry::kinds();
  std::vector<std::string> selected;
  for (const auto& k : kinds) {
    // "workload" selects every workload kind; "workload:inference" one of them.
    if (k == args.kind || k.rfind(args.kind + ":", 0) == 0) selected.push_back(k);
  }
  if (selected.empty()) {
    std::string list;
    for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
    throw InputError({"describe", 1, 1}, "unknown kind '" + args.kind + "' (known: " + list + ", workload)");
  }
  for (size_t i = 0; i < selected.size(); ++i) {
    std::vector<Row> rows = rows_of(ParamRegistry::of_kind(selected[i]));
    if (args.format == "yaml") {
      if (i) out << "---\n";
      print_yaml(selected[i], rows, out);
    } else if (args.format == "csv") {
      if (i == 0) write_csv_row({"kind", "field", "type", "unit", "default", "doc", "source"}, out);
      for (const Row& r : rows) write_csv_row({selected[i], r.field, r.type, r.unit, r.def, r.doc, r.source}, out);
    } else {
      if (i) out << "\n";
      out << selected[i] << "\n";
      TextTable t({"FIELD", "TYPE", "UNIT", "DEFAULT", "DOC", "SOURCE"});
      for (const Row& r : rows) t.add({r.field, r.type, r.unit, r.def, r.doc, r.source});
      t.print(out);
      if (selected[i] == "collectives") print_shipped_libraries(out);
    }
  }
  return 0;
}

}  // namespace llmsim
