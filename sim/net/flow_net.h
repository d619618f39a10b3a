// Flow-level network model: every directed link has a bandwidth, a latency, a per-message
// overhead and a maximum payload; concurrent flows share links max-min fair (progressive
// filling), recomputed only over the connected component of links and flows touched by a
// start or an end. Completion times are computed and scheduled on the EventQueue, with a
// generation counter invalidating stale completions: no per-byte or per-packet events.
//
// Collectives run as *phases*: every (src, dst) pair of a Pattern moves the same number of
// bytes, and the phase ends when the last one arrives. When the pattern's routes are
// link-disjoint and its links carry nothing else, each transfer runs alone at its
// bottleneck bandwidth, so the phase end is known analytically and costs one event (the
// fast path). Anything that later wants one of those links demotes the phase to per-flow
// simulation first, with each transfer's exact progress, so contention stays exact.
//
// Link state may change during a run (set_link_bandwidth, set_link_up; flow_state.cpp):
// flows on the link are re-rated at that instant, fast phases on it demoted first, and a
// link going down moves its flows to routes over the links still up (docs/models.md
// "State changes").
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/event_queue.h"
#include "sim/output/trace_sink.h"
#include "sim/topo/topology.h"

namespace llmsim {

// The (src, dst) vertex pairs of one collective step. Routes and the disjointness check
// are resolved once per pattern and reused by every step that uses it (after a link state
// change, FlowNet runs a copy resolved on the new state instead).
struct Pattern {
  std::vector<std::pair<int, int>> pairs;  // vertex ids
  // Per-pair multiple of the phase's byte count (empty = all 1): in-switch reduce-scatter
  // sends S up but receives S/n down in the same phase.
  std::vector<double> weight;
  // Filled by FlowNet::resolve().
  bool resolved = false;
  std::uint64_t epoch = 0;                 // FlowNet::epoch() it was resolved in
  bool disjoint = false;                   // no directed link used twice
  // Not disjoint, but one cut-through timing class and every link it uses equally loaded
  // and equally fast (all pairs behind one switch): max-min gives every transfer the
  // same share, bandwidth / load, on every link, so all end together when a link has
  // carried its load and the bulk formula is exact (FlowNet::phase runs it so).
  bool uniform = false;
  std::vector<Route> routes;               // copies: Topology's route cache is bounded
  std::vector<DirLink> dirlinks;           // every directed link used (sorted, unique)
  std::vector<double> load;                // per dirlinks[i]: sum of the weights crossing it
  // Distinct unloaded timings among the routes, so a fast step costs O(classes).
  struct Class {
    SimTime startup = 0;
    BytesPerSecond bw = 0;
    Bytes chunk = 0;   // 0 = cut-through
    int hops = 0;
    double weight = 1;
    bool operator==(const Class& o) const {
      return startup == o.startup && bw == o.bw && chunk == o.chunk && hops == o.hops && weight == o.weight;
    }
  };
  std::vector<Class> classes;
  std::vector<int> class_of;               // per pair
  std::vector<int> switches;               // switch vertices its routes enter (sorted, unique)
  // Link statistics of its phases run on the fast path, added per phase in O(classes) and
  // spread over its routes' links only when FlowNet folds them (link_counters()): per-link
  // work per step would cost O(links) per step (see fast_active_ in FlowNet).
  Bytes fast_bytes = 0;                    // sum of the completed fast phases' byte counts
  std::vector<SimTime> class_busy;         // per class: sum of its drain times
  bool accounted = false;                  // listed in FlowNet's accounted_
};
using PatternPtr = std::shared_ptr<Pattern>;

// Unloaded timing of one message along a route (pure functions; tests use them).
// A message of B bytes takes  startup + (B + fill) / bandwidth  alone on its path, where
// startup = max per-message overhead on the path + route latency, and fill = (hops - 1) x
// min(B, max_payload): the pipeline fill of store-and-forward chunks (max_payload 0 =
// cut-through, no fill).
Pattern::Class path_class(const Topology& topo, const Route& route);
inline Bytes fill_bytes(const Pattern::Class& c, Bytes bytes) {
  return c.chunk > 0 && c.hops > 1 ? (c.hops - 1) * (bytes < c.chunk ? bytes : c.chunk) : Bytes{0};
}
inline SimTime drain_time(const Pattern::Class& c, Bytes bytes) {
  bytes *= c.weight;
  return c.bw > 0 ? to_simtime((bytes + fill_bytes(c, bytes)) / c.bw) : 0;  // bw 0: no hops
}

// Exact max-min over F contended flows costs O(F) per start or end, O(F^2) in all (an
// all-to-all over 576 chips: minutes). A contended phase with more transfers than this,
// alone on its links, runs in bulk instead: it ends when its most loaded link has carried
// its load, max over links of (bytes crossing it / bandwidth), plus the largest startup.
// That is exact when the most loaded link is busy throughout (symmetric all-to-all behind
// a switch), a lower bound otherwise; docs/models.md "Phase fast path". A `uniform`
// pattern, where it is exact by construction, runs in bulk at any size.
constexpr std::size_t kMaxExactFlows = 16384;

class FlowNet {
 public:
  FlowNet(const Topology& topo, EventQueue& queue, Recorder& recorder);

  // One message from vertex src to vertex dst; `done` runs when its last byte arrives.
  void transfer(int src, int dst, Bytes bytes, std::function<void()> done);
  // Every pair of `pattern` moves `bytes`; `done` runs when all have arrived.
  void phase(const PatternPtr& pattern, Bytes bytes, std::function<void()> done);

  // Off forces per-flow simulation of every phase (tests compare both paths).
  void set_fast_path(bool on) { fast_path_ = on; }
  // Contended phases with more transfers than this, alone on their links, run in bulk
  // (see kMaxExactFlows); tests lower it to compare with exact runs.
  void set_max_exact_flows(std::size_t n) { max_exact_flows_ = n; }
  // Resolves routes (over the links up now) and timing classes (at today's bandwidths).
  void resolve(Pattern& p) const;
  // Creates every link's timeline track now (VCD signals must exist before sc_start).
  void create_tracks();

  struct Stats {
    std::uint64_t flows = 0;          // per-flow simulated messages
    std::uint64_t fast_phases = 0;    // phases run analytically
    std::uint64_t bulk_phases = 0;    // contended phases run by their most loaded link
    std::uint64_t slow_phases = 0;    // phases run per flow
    std::uint64_t demotions = 0;      // fast phases converted on contention
    std::uint64_t recomputes = 0;     // max-min recomputations
  };
  const Stats& stats() const { return stats_; }
  // Current rate of the flows on a directed link (tests: fairness).
  BytesPerSecond link_load(DirLink d) const;
  int active_flows() const { return active_flows_; }

  // Link and switch statistics (flow_stats.cpp, docs/outputs.md "stats"), per directed link
  // and per switch vertex, from time 0 to now. A link is busy while at least one transfer
  // drains over it (startup latency excluded); bytes are payload bytes (pipeline fill
  // excluded); capacity is the integral of its bandwidth over the run, 0 while it is down.
  struct LinkCounters {
    Bytes bytes = 0;
    Seconds busy_s = 0;
    int peak_flows = 0;       // most transfers draining over it at once
    Bytes capacity_bytes = 0;
  };
  struct SwitchCounters {
    Bytes bytes = 0;     // bytes entering it (each switched byte counted once)
    Seconds busy_s = 0;  // time with at least one transfer through it
  };
  LinkCounters link_counters(DirLink d);
  SwitchCounters switch_counters(int vertex);

  // Link state changes, effective at the current instant (flow_state.cpp). The vertex-pair
  // forms act on every link joining u and v, in both directions, or with `one_way` only
  // u -> v; they throw std::invalid_argument when no link joins u and v or a bandwidth is
  // not positive. Rates of flows on a changed link are recomputed now; a link going down
  // moves its flows to a route over the links still up (their startup latency is paid
  // again on the new path, their remaining bytes carry over) and throws InfeasibleError
  // naming the down links when some flow's endpoints are no longer connected.
  void set_link_bandwidth(int u, int v, BytesPerSecond bw, bool one_way = false);
  void set_link_bandwidth_fraction(int u, int v, double fraction_of_nominal, bool one_way = false);
  void set_link_up(int u, int v, bool up);
  // The same on one directed link / one link id (both directions).
  void set_dirlink_bandwidth(DirLink d, BytesPerSecond bw);
  void set_link_id_up(int link, bool up);
  // Every link of a vertex (a switch, or a device's ports) at once: all go down before any
  // flow is rerouted, so detours avoid the whole vertex; messages name it. Coming back
  // restores every one of its links.
  void set_vertex_up(int vertex, bool up);
  bool vertex_up(int vertex) const {
    return std::find(down_vertices_.begin(), down_vertices_.end(), vertex) == down_vertices_.end();
  }
  BytesPerSecond link_bandwidth(DirLink d) const { return links_[static_cast<size_t>(d)].bw; }
  bool link_up(int link) const { return down_.empty() || !down_[static_cast<size_t>(link)]; }
  int links_down() const { return links_down_; }
  const std::vector<char>& down_mask() const { return down_; }  // per link id; empty = all up
  // "gpu0-gpu1, gpu2-gpu3": the links down now, for messages ("" when none).
  std::string down_links_text() const;
  // Bumps on every state change: patterns resolved in an older epoch are re-resolved.
  std::uint64_t epoch() const { return epoch_; }

 private:
  struct Flow {
    const Route* route = nullptr;   // into its phase's pattern, or `own`
    std::unique_ptr<Route> own;     // point-to-point transfers keep their route here
    double remaining = 0;      // bytes still to drain (incl. pipeline fill)
    double rate = 0;           // B/s
    BytesPerSecond cap = 0;    // bottleneck of the route (upper bound)
    SimTime last = 0;          // when `remaining` was last brought up to date
    SimTime begin = 0;         // when the message was issued (timeline)
    std::uint32_t gen = 0;     // bumps on reschedule and on free
    int phase = -1;            // owning phase, or -1
    bool active = false;       // draining (past its startup latency)
    bool live = false;
    std::function<void()> done;
    int src = -1, dst = -1;
    Bytes bytes = 0;
    double route_bytes = 0;    // payload bytes still to cross when it took its route (spans)
    int pos = -1;              // index in the component being recomputed
    double payload = 1;        // payload bytes per drained byte: bytes / (bytes + fill)
  };
  struct Link {
    BytesPerSecond bw = 0;
    std::vector<int> flows;    // active flows
    int pos = -1;              // index in the component being recomputed
    double shown = -1;         // last utilisation counter emitted
    int track = -1;
    std::uint32_t stamp = 0;   // BFS visit mark
    // Statistics (flow_stats.cpp). Integers, so that sums do not depend on the order of
    // same-instant credits (--debug-tie-shuffle must not change summary.json).
    std::int64_t bytes16 = 0;  // payload carried so far, in 1/16 bytes
    SimTime busy = 0;          // closed busy intervals
    SimTime busy_since = 0;    // start of the open one (while `flows` is not empty)
    int peak_flows = 0;
    Bytes capacity = 0;  // bandwidth integral up to cap_since (B)
    SimTime cap_since = 0;
  };
  struct SwitchStat {
    int active = 0;            // per-flow transfers entering it now
    SimTime since = 0;         // when `active` last left 0
    SimTime covered = 0;       // end of the busy time counted so far
    SimTime busy = 0;
  };
  struct Phase {
    PatternPtr pattern;
    Bytes bytes = 0;
    int pending = 0;
    bool fast = false;
    bool bulk = false;         // fast, but contended: ends at `end` by link load
    SimTime end = 0;
    std::uint32_t gen = 0;
    SimTime start = 0;
    std::function<void()> done;
    bool live = false;
  };

  int new_flow(int src, int dst, const Route* route, Bytes bytes, int phase, std::function<void()> done);
  void start_flow(int id, SimTime data_start);
  void activate(int id);
  void finish_flow(int id);
  void release_links(int phase);
  void demote(int phase);
  // Link state (flow_state.cpp).
  Pattern::Class klass(const Route& route) const;   // path_class at the current bandwidths
  const Route& route_for(int src, int dst) const;   // topology route, or a detour around down links
  Route detour(int src, int dst) const;             // shortest path over up links (Boost Dijkstra)
  const PatternPtr& current(const PatternPtr& p);   // p, or its re-resolved copy this epoch
  void invalidate_patterns();
  void reroute_flows(int link);
  bool set_link_state(int link, bool up);  // the state only; true if it changed
  void demote_owners(DirLink d);
  std::vector<int> joining(int u, int v) const;     // link ids between u and v (throws if none)
  void claim(const Route& route);        // demotes fast phases on these links
  void mark_dirty(DirLink d);
  // The end of an instant (one event, after the instant's others): the phases requested
  // in it start, then rates are recomputed over the links touched.
  void schedule_settle();
  void settle();
  void start_phases();          // starting_, in a canonical order
  void start_phase(int phase);  // fast (analytic) or per flow, by its links' state
  void recompute();
  // recompute()'s three steps: the dirty links' connected component (comp_, cflows_ in a
  // canonical order), max-min progressive filling over it (rate_), and the new rates
  // applied to the flows whose rate changed.
  void collect_component();
  void fill_rates();
  void apply_rates();
  void schedule_completion(int id);
  void phase_transfer_done(int phase);
  void show_link(DirLink d);
  // Statistics (flow_stats.cpp): a flow joining / leaving a link's active set, drained bytes
  // credited to its route, busy intervals of switches, fast-phase accounting and folding.
  void link_add_flow(DirLink d, int id);
  void link_remove_flow(DirLink d, int id);
  void credit(const Route& route, Bytes payload_bytes);
  void switch_interval(int vertex, SimTime begin, SimTime end);
  int switch_entered(DirLink d) const;   // the switch vertex d leads into, or -1
  void account_fast_end(int phase);      // a fast phase completing undemoted
  void account_demoted(int phase);       // the part of a fast phase done when demoted
  void fold_fast_stats();
  void settle_capacity(DirLink d);
  void flush_spans();
  void route_spans(const Flow& f, double bytes);  // its spans on its route, begin..now
  int link_track(DirLink d);

  const Topology& topo_;
  EventQueue& q_;
  Recorder& rec_;
  bool fast_path_ = true;
  std::size_t max_exact_flows_ = kMaxExactFlows;
  std::vector<Link> links_;              // per DirLink
  std::vector<Flow> flows_;
  std::vector<int> free_flows_;
  std::vector<Phase> phases_;
  std::vector<int> free_phases_;
  std::vector<DirLink> dirty_;
  std::vector<int> starting_;  // phases requested this instant, not yet started
  bool settle_pending_ = false;
  int active_flows_ = 0;
  // Fast phases in flight (link-disjoint). With a few, a link's holder is found by binary
  // search in each one's sorted dirlinks: marking links costs O(links) per phase, which at
  // 16,384 ranks and 4,094 steps dominated the run. With many at once the search costs
  // O(phases) per link (a 16,384-GPU interleaved pipeline: ~128 data-parallel rings in
  // flight), so above kMarkAbove every phase's links are marked in owner_ until none is left.
  static constexpr std::size_t kMarkAbove = 4;
  std::vector<int> fast_active_;
  std::vector<int> owner_;               // per DirLink while marking_: fast phase holding it, or -1
  bool marking_ = false;
  int owner_of(DirLink d) const;         // fast phase holding d, or -1
  void fast_started(int id);             // adds id to fast_active_ (and marks, when marking)
  void fast_ended(int id);               // removes it (and unmarks)
  void own_links(int id, int owner);     // marks the phase's links as held by `owner` (-1: freed)
  std::uint32_t stamp_ = 0;
  std::vector<std::uint32_t> flow_stamp_;
  Stats stats_;
  std::vector<SwitchStat> switch_stats_;  // per vertex (devices unused)
  std::vector<PatternPtr> accounted_;     // patterns with fast-phase statistics not yet folded
  std::size_t prune_at_ = 64;
  bool unfolded_ = false;
  // Link state: down links (per link id, allocated on the first change), and what was
  // derived from the state and must be redone when it changes.
  std::vector<char> down_;
  int links_down_ = 0;
  std::vector<int> down_vertices_;       // taken down whole (set_vertex_up), for messages
  std::uint64_t epoch_ = 0;
  mutable std::map<std::pair<int, int>, Route> detours_;   // routes around down links
  // Patterns resolved before the last change -> a copy resolved now. Resolved patterns are
  // never re-resolved in place: flows and fast phases in flight point into their routes.
  std::map<const Pattern*, std::pair<PatternPtr, PatternPtr>> redo_;
  struct Span {
    int track;
    SimTime begin;
    std::string name, args;
  };
  std::vector<Span> spans_;
  std::vector<std::string> link_names_;  // link module names, made on the first track  // finished this instant, emitted sorted by recompute()
  // Scratch for recompute(), kept to avoid allocating per call.
  using HeapEntry = std::pair<double, std::pair<int, std::uint32_t>>;  // share, (pos, version)
  std::vector<DirLink> comp_;
  std::vector<int> cflows_;
  std::vector<double> rem_, rate_;
  std::vector<int> cnt_;
  std::vector<std::uint32_t> ver_;
  std::vector<HeapEntry> heap_;
};

}  // namespace llmsim
