// Internal to sim/topo: fabric shapes. Each shape is one file in this folder that
// registers its builder by name (LLMSIM_REGISTER_SHAPE), as collective algorithms do
// (sim/net/algorithms/), so a new shape is one new file. A builder adds the switches and
// links of its layout over the fabric's ordered member devices and records the layout in
// the FabricInstance so routing can compute paths instead of searching
// (docs/topologies.md "Shapes"). The loader (sim/topo/shapes.cpp) picks the builder by
// the fabric's `shape:`.
#pragma once
#include <string>
#include <vector>

#include "sim/topo/build.h"

namespace llmsim {
namespace topo_detail {

// What a builder works on: the topology being built, its fabric (entry and id), the
// instance recording the layout, the name prefix of its switches and the fabric's fields.
struct ShapeContext {
  Topology& t;
  FabricInfo& fab;
  int fab_id;
  FabricInstance& inst;
  const std::string& prefix;
  Params& f;
};

// A positive integer field with an upper bound (an int cast of 1e12 would wrap).
long long bounded(Params& f, const std::string& key, long long max);
// Adds switch PREFIX.FABRIC.local_name to the fabric; returns its vertex.
int add_switch(ShapeContext& c, const std::string& local_name);
// Adds a link between vertices a and b with the fabric's link parameters (or `params`),
// bandwidth scaled by `bw_scale` and the fabric's `parallel`; `dim` is its grid dimension.
void link(ShapeContext& c, int a, int b, double bw_scale = 1.0, int dim = -1, const LinkParams* params = nullptr);

class ShapeRegistry {
 public:
  using Builder = void (*)(ShapeContext&);
  // `link_required`: the fabric must give `link:` (all shapes but `links`, whose entries
  // may carry their own).
  static bool add(const std::string& name, Builder build, bool link_required = true);
  static Builder get(const std::string& name);  // nullptr if unknown
  static bool link_required(const std::string& name);
  static std::vector<std::string> names();      // sorted
};

#define LLMSIM_REGISTER_SHAPE(BUILDER, NAME) \
  static const bool llmsim_shape_##BUILDER = ::llmsim::topo_detail::ShapeRegistry::add(NAME, BUILDER)

}  // namespace topo_detail
}  // namespace llmsim
