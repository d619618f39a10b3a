// Shape `switch`: every group of members joins one switch (or parallel planes of them).
#include <string>

#include "sim/topo/shapes/shape.h"

namespace llmsim {
namespace topo_detail {
namespace {

// One switch (or `planes` parallel switches) per `group` consecutive members.
void build_switch(ShapeContext& c) {
  c.fab.planes = static_cast<int>(bounded(c.f, "planes", 4096));
  long long n = static_cast<long long>(c.inst.members.size());
  long long group = c.f.positive("group", n);
  if (n % group != 0) c.f.fail("group", std::to_string(n) + " devices do not divide into groups of " + std::to_string(group));
  int s = 0;
  for (long long g0 = 0; g0 < n; g0 += group) {
    for (int p = 0; p < c.fab.planes; ++p) {
      int sw = add_switch(c, "sw" + std::to_string(s++));
      for (long long i = g0; i < g0 + group; ++i) link(c, c.inst.members[static_cast<size_t>(i)], sw);
    }
  }
  c.fab.dims = {static_cast<int>(group)};
}

}  // namespace

LLMSIM_REGISTER_SHAPE(build_switch, "switch");

}  // namespace topo_detail
}  // namespace llmsim
