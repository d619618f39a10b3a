#include "sim/workloads/training/layout.h"

#include <set>

namespace llmsim {
namespace {

std::string list(const std::vector<int>& g) {
  std::string s = "{";
  // Evenly strided groups print as a range; others in full (at most 8 shown).
  const bool strided = g.size() > 2 && g[1] - g[0] > 0 && [&] {
    for (std::size_t i = 2; i < g.size(); ++i) {
      if (g[i] - g[i - 1] != g[1] - g[0]) return false;
    }
    return true;
  }();
  if (strided) {
    s += std::to_string(g.front()) + ", " + std::to_string(g[1]) + " .. " + std::to_string(g.back());
    if (g[1] - g[0] > 1) s += " step " + std::to_string(g[1] - g[0]);
  } else {
    for (std::size_t i = 0; i < g.size() && i < 8; ++i) s += (i ? ", " : "") + std::to_string(g[i]);
    if (g.size() > 8) s += ", ...";
  }
  return s + "}";
}

// Fabrics on the routes from a group's first member to each other member.
std::string fabrics_crossed(const std::vector<int>& g, const Topology& topo) {
  if (topo.num_devices() == 0 || g.size() < 2) return "";
  std::set<std::string> names;
  for (std::size_t i = 1; i < g.size(); ++i) {
    const Route& r = topo.route(g[0], g[i]);
    for (DirLink h : r.hops) names.insert(topo.links[static_cast<std::size_t>(dirlink_link(h))].fabric);
  }
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : " + ") + n;
  return " crossing " + (s.empty() ? std::string("no link") : s);
}

std::string groups(const char* kind, std::int64_t size, const std::vector<std::vector<int>>& all, const Topology& topo) {
  std::string s = std::string("  ") + kind + " groups: " + std::to_string(all.size()) + " of " + std::to_string(size) +
                  fabrics_crossed(all.front(), topo) + "; first " + list(all.front());
  if (all.size() > 1) s += ", last " + list(all.back());
  return s + "\n";
}

}  // namespace

std::string training_layout(const TrainingConfig& c, const Topology& topo) {
  const RankMap m = rank_map(c);
  std::vector<std::vector<int>> tp, cp, dp, ep, edp, pp;
  for (std::int64_t p = 0; p < m.pp; ++p) {
    for (std::int64_t d = 0; d < m.dp; ++d) {
      for (std::int64_t k = 0; k < m.cp; ++k) tp.push_back(m.tp_group(k, d, p));
    }
    for (std::int64_t t = 0; t < m.tp; ++t) {
      dp.push_back(m.dp_group(t, p));
      for (std::int64_t d = 0; d < m.dp; ++d) {
        cp.push_back(m.cp_group(t, d, p));
        for (std::int64_t k = 0; k < m.cp && d % m.ep == 0; ++k) ep.push_back(m.ep_group(t, k, d, p));
        if (d < m.ep) edp.push_back(m.expert_dp_group(t, d, p));
      }
    }
  }
  for (std::int64_t d = 0; d < m.dp; ++d) {
    for (std::int64_t k = 0; k < m.cp; ++k) {
      for (std::int64_t t = 0; t < m.tp; ++t) pp.push_back(m.pp_group(t, k, d));
    }
  }
  const std::string formula = m.cp > 1 ? "t + tp x (c + cp x (d + dp x p))" : "t + tp x (d + dp x p)";
  std::string s = "  rank map (Megatron-LM order): device = " + formula + ", tp " + std::to_string(m.tp) +
                  (m.cp > 1 ? " x cp " + std::to_string(m.cp) : std::string()) + " x pp " + std::to_string(m.pp) +
                  " x dp " + std::to_string(m.dp) + " = " + std::to_string(c.devices()) + " devices" +
                  (topo.num_devices() > 0 ? " of " + topo.name : std::string()) + "\n";
  // The stack's device mesh renumbers the ranks onto the torus (mesh_placement.h).
  if (!c.placement_note.empty())
    s += "  device mesh (the stack's torus_axes placement; the groups below are its devices): " + c.placement_note +
         "\n";
  s += groups("TP", m.tp, tp, topo);
  if (m.cp > 1) s += groups("CP", m.cp, cp, topo);
  s += groups(m.cp > 1 ? "DP (x CP, gradients)" : "DP", m.dp * m.cp, dp, topo);
  if (m.ep > 1) {
    s += groups("EP (all-to-all)", m.ep, ep, topo);
    s += groups(m.cp > 1 ? "expert DP (x CP, expert gradients)" : "expert DP (expert gradients)", m.dp / m.ep * m.cp,
                edp, topo);
  }
  s += groups("PP", m.pp, pp, topo);
  return s;
}

}  // namespace llmsim
