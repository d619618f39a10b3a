// Ring: ranks in group order, each sends to the next. All-reduce = reduce-scatter then
// all-gather, 2(n-1) steps of S/n (Patarasuk & Yuan 2009; NCCL's ring); busbw -> link bw.
// Broadcast / reduce stream S through the chain root -> ... in pipeline chunks.
// On a switchless fabric (a mesh of direct links) the all-reduce / reduce-scatter /
// all-gather ring runs along the fabric's links, as the libraries lay it: NCCL searches its
// rings over the topology graph [NCCL-SRC], and tt-metal's CCL orders a T3000's eight chips
// around the 2 x 4 mesh [TT-METAL-CCL] (docs/models.md "Collectives"). Group order on a
// row-major mesh without wraparound puts consecutive ranks up to rows + cols - 2 hops
// apart, and every step waits for that route.
#include <algorithm>

#include "sim/net/algorithms/pipeline.h"
#include "sim/net/collective.h"

namespace llmsim {
namespace {

// Groups up to this size are searched (the meshes of direct links that ship hold 8-32
// chips; larger switchless systems are tori, whose lines are already one hop apart).
constexpr size_t kMaxSearchedGroup = 64;

struct RingHops {
  int max = 0;   // the longest consecutive route, in hops: every step waits for it
  long sum = 0;  // total hops: shared links
  bool operator<(const RingHops& o) const { return max != o.max ? max < o.max : sum < o.sum; }
};

RingHops ring_hops(const std::vector<std::vector<int>>& hops, const std::vector<int>& order) {
  RingHops h;
  for (size_t i = 0; i < order.size(); ++i) {
    const int d = hops[static_cast<size_t>(order[i])][static_cast<size_t>(order[(i + 1) % order.size()])];
    h.max = std::max(h.max, d);
    h.sum += d;
  }
  return h;
}

// Whether the partial path can still close into a cycle: every unvisited member needs two
// cycle neighbours among the unvisited, the path's end and the start (member 0), and the
// start one unvisited neighbour to return through. Pruning on it keeps the search on a
// 4 x 8 mesh to a few hundred expansions.
bool can_close(const std::vector<std::vector<int>>& hops, const std::vector<char>& used, int last) {
  const size_t n = hops.size();
  bool start_open = false;
  for (size_t k = 0; k < n; ++k) {
    if (used[k]) continue;
    start_open = start_open || hops[0][k] == 1;
    int free = 0;
    for (size_t j = 0; j < n && free < 2; ++j)
      free += j != k && hops[k][j] == 1 && (!used[j] || j == 0 || static_cast<int>(j) == last);
    if (free < 2) return false;
  }
  return start_open;
}

// Depth-first search for a cycle through every member on one-hop links, trying the
// neighbour with the fewest unvisited neighbours first (Warnsdorff's rule), with a bounded
// number of expansions. A mesh with an even side has such a cycle (the snake with a return
// column); an odd x odd mesh has none, and the budget ends the search.
bool one_hop_cycle(const std::vector<std::vector<int>>& hops, std::vector<int>& path, std::vector<char>& used,
                   long& budget) {
  const size_t n = hops.size();
  const int last = path.back();
  if (path.size() == n) return hops[static_cast<size_t>(last)][0] == 1;
  if (!can_close(hops, used, last)) return false;
  std::vector<std::pair<int, int>> next;  // (onward degree, member)
  for (size_t j = 0; j < n; ++j) {
    if (used[j] || hops[static_cast<size_t>(last)][j] != 1) continue;
    int degree = 0;
    for (size_t k = 0; k < n; ++k) degree += !used[k] && k != j && hops[j][k] == 1;
    next.emplace_back(degree, static_cast<int>(j));
  }
  std::sort(next.begin(), next.end());
  for (const auto& [degree, j] : next) {
    if (--budget < 0) return false;
    used[static_cast<size_t>(j)] = 1;
    path.push_back(j);
    if (one_hop_cycle(hops, path, used, budget)) return true;
    path.pop_back();
    used[static_cast<size_t>(j)] = 0;
  }
  return false;
}

// The group re-ordered along the fabric where that shortens the ring's longest route; the
// group's own order otherwise (switched fabrics: every pair is the same distance).
std::vector<int> ring_order(const Topology& topo, const std::vector<int>& group) {
  const size_t n = group.size();
  if (topo.num_switches() > 0 || n < 4 || n > kMaxSearchedGroup) return group;
  std::vector<std::vector<int>> hops(n, std::vector<int>(n, 0));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      if (i != j) hops[i][j] = static_cast<int>(topo.route(group[i], group[j]).hops.size());
  std::vector<int> identity(n);
  for (size_t i = 0; i < n; ++i) identity[i] = static_cast<int>(i);
  const RingHops as_given = ring_hops(hops, identity);
  if (as_given.max <= 1) return group;
  std::vector<int> best = identity;
  std::vector<int> path{0};
  std::vector<char> used(n, 0);
  used[0] = 1;
  long budget = static_cast<long>(64 * n);
  if (one_hop_cycle(hops, path, used, budget)) {
    best = path;
  } else {  // nearest neighbour, ties to the lower rank; kept only if it beats group order
    std::vector<int> tour{0};
    std::vector<char> seen(n, 0);
    seen[0] = 1;
    while (tour.size() < n) {
      int pick = -1;
      for (size_t j = 0; j < n; ++j)
        if (!seen[j] && (pick < 0 || hops[static_cast<size_t>(tour.back())][j] <
                                         hops[static_cast<size_t>(tour.back())][static_cast<size_t>(pick)]))
          pick = static_cast<int>(j);
      seen[static_cast<size_t>(pick)] = 1;
      tour.push_back(pick);
    }
    if (ring_hops(hops, tour) < as_given) best = tour;
    // A line (a mesh row or column without wraparound, 2-D TP's groups) has no one-hop
    // cycle; folded -- even ranks out, odd ranks back -- the ring's steps are at most two
    // hops and each link carries one flow per direction, where the nearest-neighbour tour
    // closes over the whole line (the usual embedding of a ring in a line).
    std::vector<int> fold;
    for (size_t i = 0; i < n; i += 2) fold.push_back(static_cast<int>(i));
    for (int i = static_cast<int>(n % 2 == 0 ? n - 1 : n - 2); i > 0; i -= 2) fold.push_back(i);
    if (ring_hops(hops, fold) < ring_hops(hops, best)) best = fold;
  }
  std::vector<int> order;
  for (int i : best) order.push_back(group[static_cast<size_t>(i)]);
  return order;
}

class Ring : public CollectiveAlgorithm {
 public:
  std::string unsupported(const Topology&, const CollectiveRequest& req) const override {
    if (req.kind == CollectiveKind::AllToAll) return "a ring does not route all-to-all; use direct";
    if (req.kind == CollectiveKind::SendRecv) return "send/recv is point to point";
    return "";
  }

  Plan plan(const Topology& topo, const CollectiveRequest& req) const override {
    Plan plan;
    int n = static_cast<int>(req.group.size());
    double S = req.bytes;
    if (req.kind == CollectiveKind::Broadcast || req.kind == CollectiveKind::Reduce) {
      // Chain from the root through the ring order (reversed for reduce), streamed: every
      // hop carries S at once (a + S/B), then the pipeline fill of one chunk per extra
      // hop. Lock-step phases of one chunk each would charge the hop latency per chunk,
      // which a streaming pipeline overlaps.
      std::vector<int> order;
      for (int i = 0; i < n; ++i) order.push_back(req.group[static_cast<size_t>((req.root + i) % n)]);
      auto p = make_pattern();
      for (int i = 0; i + 1 < n; ++i) {
        if (req.kind == CollectiveKind::Broadcast)
          add_pair(*p, order[static_cast<size_t>(i)], order[static_cast<size_t>(i + 1)]);
        else
          add_pair(*p, order[static_cast<size_t>(i + 1)], order[static_cast<size_t>(i)]);
      }
      add_pipeline(plan, p, S, n - 2, "ring");
      return plan;
    }
    auto p = make_pattern();
    add_ring(*p, ring_order(topo, req.group));
    int steps = req.kind == CollectiveKind::AllReduce ? 2 * (n - 1) : n - 1;
    plan.stages.push_back({p, S / n, steps, "ring"});
    return plan;
  }
};

}  // namespace
LLMSIM_REGISTER_COLLECTIVE(Ring, "ring");
}  // namespace llmsim
