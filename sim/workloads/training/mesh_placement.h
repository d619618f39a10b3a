// XLA's device mesh on a TPU torus (`device_mesh.placement: torus_axes` in the stack,
// docs/training.md "Device mesh"). JAX lays a mesh of parallelism axes on the chips by
// giving each axis, the most communicating first, whole physical torus axes whose sizes
// multiply to the axis' size (mesh_utils.create_device_mesh [JAX-MESH]), so a TP group is
// one torus line (a bidirectional ring) and an FSDP group a plane or the rest of the torus.
// Megatron's rank order instead fills the first torus dimension first, which on a 4x4x8
// slice puts a TP group of 8 on two half lines joined by two-hop routes.
#pragma once
#include <string>
#include <vector>

namespace llmsim {

struct MeshPlacement {
  // Device of each rank, indexed as RankMap orders ranks (t + tp x (c + cp x (d + dp x p)));
  // empty when the mesh cannot be laid on whole axes (then ranks keep their order).
  std::vector<int> device;
  std::string note;  // which torus dimensions each parallel axis took, or why none
};

// For parallelism sizes {tp, cp, dp, pp} (named by `names`) on a torus of `dims`
// (dimension 0 varying fastest in device numbering): axes are assigned in that order,
// each to the fewest unassigned torus axes whose sizes multiply to it (the first such
// combination), inside an axis the lowest torus dimension varying fastest. No placement
// when some size > 1 is no product of whole unassigned axes (JAX refuses such a mesh
// unless told to split axes) or the sizes do not multiply to the torus.
MeshPlacement torus_axes_placement(const std::vector<long long>& sizes, const std::vector<std::string>& names,
                                   const std::vector<int>& dims);

}  // namespace llmsim
