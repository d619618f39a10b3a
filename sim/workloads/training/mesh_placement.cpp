#include "sim/workloads/training/mesh_placement.h"

namespace llmsim {
namespace {

// The first combination (fewest axes first, then in index order) of unassigned torus axes
// whose sizes multiply to `size`, as JAX's _create_device_mesh_for_nd_torus searches it.
std::vector<int> assign_axes(long long size, const std::vector<int>& dims, std::vector<char>& taken) {
  const int n = static_cast<int>(dims.size());
  for (int count = 1; count <= n; ++count) {
    for (int mask = 1; mask < (1 << n); ++mask) {
      if (__builtin_popcount(static_cast<unsigned>(mask)) != count) continue;
      long long prod = 1;
      std::vector<int> axes;
      bool free = true;
      for (int a = 0; a < n; ++a) {
        if (!(mask & (1 << a))) continue;
        free = free && !taken[static_cast<std::size_t>(a)];
        prod *= dims[static_cast<std::size_t>(a)];
        axes.push_back(a);
      }
      if (!free || prod != size) continue;
      for (int a : axes) taken[static_cast<std::size_t>(a)] = 1;
      return axes;
    }
  }
  return {};
}

}  // namespace

MeshPlacement torus_axes_placement(const std::vector<long long>& sizes, const std::vector<std::string>& names,
                                   const std::vector<int>& dims) {
  MeshPlacement out;
  long long ranks = 1, chips = 1;
  for (long long s : sizes) ranks *= s;
  for (int d : dims) chips *= d;
  if (dims.empty() || ranks != chips) {
    out.note =
        "rank order: " + std::to_string(ranks) + " ranks do not fill the torus of " + std::to_string(chips) + " chips";
    return out;
  }
  std::vector<char> taken(dims.size(), 0);
  std::vector<std::vector<int>> axes_of(sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 1) continue;
    axes_of[i] = assign_axes(sizes[i], dims, taken);
    std::string dl;
    for (int a : axes_of[i]) dl += (dl.empty() ? "" : " x ") + std::to_string(dims[static_cast<std::size_t>(a)]);
    if (axes_of[i].empty()) {
      out.note = "rank order: " + names[i] + " " + std::to_string(sizes[i]) + " is no product of whole free torus axes";
      return out;
    }
    std::string idx;
    for (int a : axes_of[i]) idx += (idx.empty() ? "" : ",") + std::to_string(a);
    out.note += (out.note.empty() ? "" : "; ") + names[i] + " " + std::to_string(sizes[i]) + " on torus dim" +
                (axes_of[i].size() > 1 ? "s " : " ") + idx + " (" + dl + ")";
  }
  std::vector<long long> stride(dims.size(), 1);
  for (std::size_t k = 1; k < dims.size(); ++k) stride[k] = stride[k - 1] * dims[k - 1];
  std::vector<int>& place = out.device;
  place.assign(static_cast<std::size_t>(ranks), 0);
  for (long long r = 0; r < ranks; ++r) {
    long long rest = r, dev = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      long long idx = rest % sizes[i];  // this rank's index along parallel axis i
      rest /= sizes[i];
      for (int a : axes_of[i]) {
        const long long k = dims[static_cast<std::size_t>(a)];
        dev += (idx % k) * stride[static_cast<std::size_t>(a)];
        idx /= k;
      }
    }
    place[static_cast<std::size_t>(r)] = static_cast<int>(dev);
  }
  return out;
}

}  // namespace llmsim
