// Shape `ring`: each member linked to the next, the last to the first.
#include "sim/topo/shapes/shape.h"

namespace llmsim {
namespace topo_detail {
namespace {

void build_ring(ShapeContext& c) {
  size_t n = c.inst.members.size();
  if (n == 2) link(c, c.inst.members[0], c.inst.members[1], 1.0, 0);
  if (n > 2)
    for (size_t i = 0; i < n; ++i) link(c, c.inst.members[i], c.inst.members[(i + 1) % n], 1.0, 0);
}

}  // namespace

LLMSIM_REGISTER_SHAPE(build_ring, "ring");

}  // namespace topo_detail
}  // namespace llmsim
