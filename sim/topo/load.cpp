// Topology documents -> Topology: flat systems (`device` + `count`), hierarchies
// (`nodes: {topology: FILE, count: N}`, replicated node by node), then `fabrics:`.
#include <sys/stat.h>

#include "sim/core/paths.h"
#include "sim/topo/build.h"

namespace llmsim {
namespace {

using topo_detail::kMaxDevices;

bool is_path_ref(const std::string& ref) {
  return ref.find('/') != std::string::npos || (ref.size() > 5 && ref.compare(ref.size() - 5, 5, ".yaml") == 0);
}

// Copies `child` `count` times into `t`: node n's device i becomes device n*dpn + i and
// its switches follow all devices, node by node, so every vertex id is a closed form.
void replicate(Topology& t, const Topology& child, int count, const std::string& prefix) {
  const int dpn = child.num_devices();
  const int sw = child.num_switches();
  const int ndev = count * dpn;
  auto map = [&](int n, int v) { return v < dpn ? n * dpn + v : ndev + n * sw + (v - dpn); };
  t.nodes = count;
  t.devices_per_node = dpn;
  t.power = child.power;
  t.power.device_cap.clear();
  t.power.cap_groups.clear();
  for (int n = 0; n < count; ++n) {
    t.power.device_cap.insert(t.power.device_cap.end(), child.power.device_cap.begin(), child.power.device_cap.end());
    for (const PowerSetup::CapGroup& g : child.power.cap_groups) {  // a node's total, once per node
      PowerSetup::CapGroup ng{prefix + std::to_string(n), {}, g.total};
      for (int d : g.devices) ng.devices.push_back(n * dpn + d);
      t.power.cap_groups.push_back(std::move(ng));
    }
  }
  t.fabrics = child.fabrics;
  t.vertices.reserve(static_cast<size_t>(ndev + count * sw));
  t.device_chip.reserve(static_cast<size_t>(ndev));
  for (int n = 0; n < count; ++n) {
    std::string pre = prefix + std::to_string(n) + ".";
    for (int i = 0; i < dpn; ++i) {
      VertexInfo v = child.vertices[static_cast<size_t>(i)];
      v.name = pre + v.name;
      v.device = n * dpn + i;
      v.node = n;
      v.local_rank = i;
      t.add_vertex(v);
      t.device_chip.push_back(child.device_chip[static_cast<size_t>(i)]);
    }
  }
  for (int n = 0; n < count; ++n) {
    std::string pre = prefix + std::to_string(n) + ".";
    for (int s = 0; s < sw; ++s) {
      VertexInfo v = child.vertices[static_cast<size_t>(dpn + s)];
      v.name = pre + v.name;
      v.node = n;
      t.add_vertex(v);
    }
  }
  t.links.reserve(static_cast<size_t>(count) * child.links.size());
  for (int n = 0; n < count; ++n) {
    for (const LinkInfo& l : child.links) {
      LinkInfo c = l;
      c.a = map(n, l.a);
      c.b = map(n, l.b);
      t.add_link(c);
    }
    for (const FabricInstance& in : child.instances) {
      FabricInstance c = in;
      c.node = n;
      auto remap = [&](std::vector<int>& vs) { for (int& v : vs) v = map(n, v); };
      remap(c.members);
      remap(c.switches);
      remap(c.member_leaf);
      remap(c.leaf_vertex);
      for (auto& p : c.pod_spines) remap(p);
      for (auto& g : c.core_groups) remap(g);
      t.instances.push_back(std::move(c));
    }
  }
}

// `resolved` (when not null) receives the document as loaded (config.resolved.yaml).
Topology load_impl(const Doc& doc, ChipCatalog& catalog, int depth, YAML::Node* resolved) {
  Params f("topology", doc, "topology");
  Topology t;
  t.file = doc.path;
  t.pos = {doc.path, 1, 1};
  t.name = f.str("name", path_stem(doc.path));
  t.description = f.str("description");
  if (YAML::Node s = f.opt("sources")) {
    if (!s.IsSequence()) f.fail("sources", "expected a list of source keys (CHIPS.md)");
    for (auto k : s) t.sources.push_back(as_string(k, f.file_for("sources"), "topology.sources"));
  }
  int level = 0;
  if (f.has("nodes")) {
    if (f.has("count")) f.fail("count", "use either `count` (one level) or `nodes` (a hierarchy), not both");
    if (f.has("device")) f.fail("device", "with `nodes`, the device comes from the node topology; remove `device`");
    Params nf = f.child("nodes");
    std::string rel = nf.str("topology");
    long long count = nf.positive("count");
    std::string prefix = nf.str("prefix");
    nf.finish();
    if (depth >= 8) nf.fail("topology", "topologies nested deeper than 8 levels (a cycle?)");
    Doc tmp;
    tmp.path = nf.file();
    std::string path = tmp.resolve(rel);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) nf.fail("topology", "cannot open node topology '" + path + "'");
    Topology child = load_impl(load_doc(path), catalog, depth + 1, nullptr);
    if (count > kMaxDevices || count * child.num_devices() > kMaxDevices) {
      nf.fail("count", std::to_string(count) + " nodes x " + std::to_string(child.num_devices()) + " devices exceeds the limit of " +
                           std::to_string(kMaxDevices) + " devices");
    }
    for (const auto& fab : child.fabrics) level = std::max(level, fab.level + 1);
    replicate(t, child, static_cast<int>(count), prefix);
  } else {
    std::string ref = f.str("device");
    if (is_path_ref(ref)) {
      Doc tmp;
      tmp.path = f.file_for("device");
      ref = tmp.resolve(ref);
    }
    const ChipSpec& chip = catalog.get(ref, f.pos("device"));
    long long count = f.positive("count");
    if (count > kMaxDevices) f.fail("count", "at most " + std::to_string(kMaxDevices) + " devices");
    std::string prefix = f.str("prefix");
    if (prefix.empty() || prefix.find_first_of(". \t") != std::string::npos || std::isdigit(static_cast<unsigned char>(prefix.back())))
      f.fail("prefix", "device name prefix must be a word without '.', spaces or a trailing digit");
    t.vertices.reserve(static_cast<size_t>(count));
    for (long long i = 0; i < count; ++i) {
      VertexInfo v;
      v.name = prefix + std::to_string(i);
      v.device = static_cast<int>(i);
      v.local_rank = static_cast<int>(i);
      t.add_vertex(v);
      t.device_chip.push_back(&chip);
    }
    t.devices_per_node = static_cast<int>(count);
  }
  std::vector<int> members(static_cast<size_t>(t.num_devices()));
  for (size_t i = 0; i < members.size(); ++i) members[i] = static_cast<int>(i);
  if (YAML::Node fl = f.opt("fabrics")) {
    t.pos = f.pos("fabrics");
    if (!fl.IsSequence()) f.fail("fabrics", "expected a list of fabrics ({name, type, shape, link})");
    for (size_t i = 0; i < fl.size(); ++i)
      topo_detail::add_fabric(t, fl[i], f.file_for("fabrics"), "fabrics[" + std::to_string(i) + "]", members, level, "",
                              f.resolved()["fabrics"][i]);
  }
  topo_detail::read_power(f, t);
  f.finish();
  if (resolved) resolved->reset(f.resolved());
  return t;
}

}  // namespace

Topology load_topology(const Doc& doc, ChipCatalog& catalog) {
  Topology t = load_impl(doc, catalog, 0, nullptr);
  t.finalize();
  return t;
}

namespace topo_detail {
Topology load_topology_resolved(const Doc& doc, ChipCatalog& catalog, YAML::Node& resolved) {
  Topology t = load_impl(doc, catalog, 0, &resolved);
  t.finalize();
  return t;
}
}  // namespace topo_detail

}  // namespace llmsim
