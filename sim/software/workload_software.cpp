#include "sim/software/workload_software.h"

#include <yaml-cpp/yaml.h>

#include "sim/core/yaml_doc.h"

namespace llmsim {

SoftwareStack read_workload_software(Params& f) {
  YAML::Node n = f.get("software");
  if (n.IsMap()) return load_software_node(n, f.file_for("software"), "workload.software");
  const std::string name = as_string(n, f.file_for("software"), "workload.software");
  return name == "none" ? SoftwareStack{} : load_software_file(name, f.pos("software"));
}

void require_stack_dtype(Params& f, const SoftwareStack& stack, const std::string& dtype, const std::string& key) {
  if (stack.runs_dtype(dtype)) return;
  std::string list;
  for (const auto& x : stack.dtypes) list += (list.empty() ? "" : ", ") + x;
  f.fail(key, "software stack " + stack.name + " does not run dtype '" + dtype + "' (it runs: " + list + ")");
}

}  // namespace llmsim
