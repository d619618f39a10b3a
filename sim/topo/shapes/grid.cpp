// Shapes `torus` and `mesh`: one grid of up to three dimensions, with or without wraparound.
#include <string>
#include <vector>

#include "sim/topo/shapes/shape.h"

namespace llmsim {
namespace topo_detail {
namespace {

// Torus (wraparound) or mesh. Member i sits at coordinates x0 + d0*(x1 + d1*x2).
void build_grid(ShapeContext& c, bool wrap) {
  YAML::Node dn = c.f.get("dims");
  if (!dn.IsSequence() || dn.size() < 1 || dn.size() > 3)
    c.f.fail("dims", "expected a list of 1 to 3 positive integers, e.g. [4, 4, 4]");
  long long prod = 1;
  std::vector<int> dims;
  for (auto d : dn) {
    std::int64_t v = as_int(d, c.f.file(), "dims");
    if (v < 1 || v > kMaxDevices) throw InputError(pos_of(d, c.f.file()), "dims: each dimension must be between 1 and " + std::to_string(kMaxDevices));
    dims.push_back(static_cast<int>(v));
    prod *= v;
  }
  if (prod != static_cast<long long>(c.inst.members.size())) {
    c.f.fail("dims", "dims multiply to " + std::to_string(prod) + " but the fabric spans " +
                         std::to_string(c.inst.members.size()) + " devices");
  }
  c.fab.dims = dims;
  // Optional blocks (TPU v4 cubes of 4x4x4): links that leave a block, wraparound included,
  // take `block_link` (e.g. kind ocs, a longer latency) on top of the fabric's link.
  std::vector<int> block;
  LinkParams block_link = c.fab.link;
  if (YAML::Node bn = c.f.opt("block")) {
    if (!bn.IsSequence() || bn.size() != dims.size()) c.f.fail("block", "expected one block size per dimension of dims");
    for (size_t k = 0; k < dims.size(); ++k) {
      std::int64_t b = as_int(bn[k], c.f.file(), "block");
      if (b < 1 || dims[k] % b != 0) throw InputError(pos_of(bn[k], c.f.file()), "block: each size must divide its dimension");
      block.push_back(static_cast<int>(b));
    }
    block_link = parse_link(c.f, "block_link", "block_link", c.fab.link);
  } else {
    c.f.opt("block_link");
    if (c.f.has("block_link")) c.f.fail("block_link", "needs `block`");
  }
  std::vector<long long> stride(dims.size(), 1);
  for (size_t k = 1; k < dims.size(); ++k) stride[k] = stride[k - 1] * dims[k - 1];
  for (size_t k = 0; k < dims.size(); ++k) {
    int d = dims[k];
    for (long long i = 0; i < prod; ++i) {
      int x = static_cast<int>((i / stride[k]) % d);
      // A dimension of 2 has one neighbour: the wrap link would duplicate the +1 link.
      bool has_next = x + 1 < d || (wrap && d > 2);
      if (!has_next) continue;
      long long j = i + ((x + 1 < d) ? stride[k] : -static_cast<long long>(x) * stride[k]);
      bool crosses = !block.empty() && (x + 1) % block[k] == 0;
      link(c, c.inst.members[static_cast<size_t>(i)], c.inst.members[static_cast<size_t>(j)], 1.0, static_cast<int>(k),
           crosses ? &block_link : nullptr);
    }
  }
}

void build_torus(ShapeContext& c) { build_grid(c, true); }
void build_mesh(ShapeContext& c) { build_grid(c, false); }

}  // namespace

LLMSIM_REGISTER_SHAPE(build_torus, "torus");
LLMSIM_REGISTER_SHAPE(build_mesh, "mesh");

}  // namespace topo_detail
}  // namespace llmsim
