// The per-channel DRAM simulation behind the "dram" tier model (dram_channel.h).
// One event per access piece (a request cut at row boundaries), never per clock: each piece
// gets the earliest PRE/ACT/READ times its bank, the channel's ACT limits (tRRD, tFAW), the
// data bus and refresh allow. A controller-sized window of pending pieces is scheduled
// first-ready (earliest data first, so open-row hits go ahead of misses: FR-FCFS), which is
// what lets a random stream use many banks at once.
#include "models/tier_models/dram_channel.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "sim/core/hash.h"
#include "sim/spec/chip.h"

namespace llmsim {
namespace {

constexpr int kWindow = 32;         // pending requests a controller reorders among (typical queue depth)
constexpr int kWriteBatch = 32;     // controllers drain writes in batches: R...RW...W per batch
constexpr std::int64_t kRows = 1 << 16;  // rows per bank the random pattern draws from
constexpr Seconds kNever = -1.0;  // no ACT in this plan (row hit)

struct Piece {
  int bank = 0;
  std::int64_t row = 0;
  int bursts = 1;
  Bytes bytes = 0;   // useful bytes
  bool write = false;
  Seconds arrive = 0;
};

// Turns a pattern into row-sized pieces. Addresses are row-interleaved across banks
// (bank = row-sized block mod banks), the usual mapping for streaming: a sequential stream
// walks the banks in turn; a uniformly random address is a random bank and row.
class PieceSource {
 public:
  PieceSource(const DramParams& p, const AccessPattern& a, std::uint64_t seed)
      : p_(p), a_(a), rng_(seed) {
    // A streaming engine coalesces sequential accesses into whole bursts; random ones
    // pay a whole burst however few of its bytes are wanted.
    request_ = a.kind == AccessPattern::Kind::Sequential ? std::max(a.granule, p.burst_bytes()) : a.granule;
    request_ = std::max<Bytes>(request_, 1);
    int per_batch = static_cast<int>(std::lround(kWriteBatch * std::clamp(a.read_fraction, 0.0, 1.0)));
    reads_per_batch_ = per_batch;
  }

  Piece next() {
    if (left_ <= 0) start_request();
    Bytes in_row = p_.row_bytes - std::fmod(addr_, p_.row_bytes);
    Piece pc;
    pc.bytes = std::min(left_, in_row);
    std::int64_t block = static_cast<std::int64_t>(addr_ / p_.row_bytes);
    pc.bank = static_cast<int>(block % p_.banks);
    pc.row = block / p_.banks;
    pc.bursts = std::max(1, static_cast<int>(std::ceil(pc.bytes / p_.burst_bytes() - 1e-9)));
    pc.write = write_;
    addr_ += pc.bytes;
    left_ -= pc.bytes;
    return pc;
  }

 private:
  void start_request() {
    write_ = (requests_++ % kWriteBatch) >= reads_per_batch_;
    left_ = request_;
    if (a_.kind != AccessPattern::Kind::Sequential) {  // paged: whole blocks, each at a random place
      double space = p_.row_bytes * p_.banks * static_cast<double>(kRows);
      auto slots = static_cast<std::uint64_t>(std::max(1.0, std::floor(space / request_)));
      rng_ = splitmix64(rng_);
      addr_ = static_cast<double>(rng_ % slots) * request_;
    }
    // Sequential: addr_ simply continues.
  }

  const DramParams& p_;
  AccessPattern a_;
  std::uint64_t rng_;
  Bytes request_ = 64;
  int reads_per_batch_ = kWriteBatch;
  double addr_ = 0;
  Bytes left_ = 0;
  bool write_ = false;
  std::int64_t requests_ = 0;
};

struct Bank {
  std::int64_t open_row = -1;
  Seconds act_ok = 0;  // earliest ACT while closed
  Seconds pre_ok = 0;  // earliest PRE while open (tRAS, write recovery)
  Seconds cas_ok = 0;  // earliest READ/WRITE while open (tRCD)
};

// When a piece could run, given the state (nothing is changed until commit).
struct AccessPlan {
  bool hit = false;
  Seconds act = kNever, cas = 0, data_start = 0, data_end = 0;
};

class Channel {
 public:
  explicit Channel(const DramParams& p) : p_(p), banks_(p.banks) {
    acts_.fill(-std::numeric_limits<double>::infinity());
    next_ref_ = p.tREFI > 0 ? 0.5 * p.tREFI : std::numeric_limits<Seconds>::infinity();
  }

  AccessPlan plan(const Piece& pc) const {
    const Bank& b = banks_[pc.bank];
    AccessPlan pl;
    Seconds cas_e;
    if (b.open_row == pc.row) {
      pl.hit = true;
      cas_e = std::max(pc.arrive, b.cas_ok);
    } else {
      Seconds act_e;
      if (b.open_row >= 0) {
        act_e = std::max(pc.arrive, b.pre_ok) + p_.tRP;  // PRE, then tRP
      } else {
        act_e = std::max(pc.arrive, b.act_ok);
      }
      // acts_ is a ring of the last four ACTs; the oldest bounds the fifth (tFAW).
      pl.act = std::max({act_e, last_act_ + p_.tRRD, acts_[faw_i_] + p_.tFAW});
      cas_e = pl.act + p_.tRCD;
    }
    Seconds bus = bus_free_ + ((!pc.write && last_write_) ? p_.tWTR : Seconds{0});
    pl.data_start = std::max(cas_e + p_.tCL, bus);
    pl.cas = pl.data_start - p_.tCL;
    pl.data_end = pl.data_start + pc.bursts * p_.tBURST();
    return pl;
  }

  void commit(const Piece& pc, const AccessPlan& pl, ChannelRun& run) {
    Bank& b = banks_[pc.bank];
    if (pl.hit) {
      ++run.row_hits;
    } else {
      ++run.activates;
      b.open_row = pc.row;
      b.pre_ok = pl.act + p_.tRAS;
      last_act_ = pl.act;
      acts_[faw_i_] = pl.act;
      faw_i_ = (faw_i_ + 1) % 4;
    }
    b.cas_ok = pl.cas + pc.bursts * p_.tBURST();
    b.pre_ok = std::max(b.pre_ok, pc.write ? pl.data_end + p_.tWR : pl.data_end);
    bus_free_ = pl.data_end;
    last_write_ = pc.write;
  }

  // All-bank refresh once its time has come: precharge all, tRFC, every row closed. Due
  // when the chosen piece's column command would fall after it (an ACT issued ahead of
  // time would otherwise keep its row open across the refresh).
  bool refresh_due(const AccessPlan& pl) const { return pl.cas >= next_ref_; }
  void refresh(ChannelRun& run) {
    Seconds start = std::max(next_ref_, bus_free_);
    bool any_open = false;
    for (const Bank& b : banks_) {
      if (b.open_row >= 0) {
        any_open = true;
        start = std::max(start, b.pre_ok);
      }
    }
    Seconds end = start + (any_open ? p_.tRP : Seconds{0}) + p_.tRFC;
    for (Bank& b : banks_) {
      b.open_row = -1;
      b.act_ok = end;
    }
    next_ref_ += p_.tREFI;
    ++run.refreshes;
  }

 private:
  const DramParams& p_;
  std::vector<Bank> banks_;
  std::array<Seconds, 4> acts_;
  int faw_i_ = 0;
  Seconds last_act_ = -std::numeric_limits<double>::infinity();
  Seconds bus_free_ = 0;
  bool last_write_ = false;
  Seconds next_ref_;
};

}  // namespace

ChannelRun simulate_channel(const DramParams& p, const AccessPattern& pattern, Seconds min_time,
                            std::int64_t max_accesses, std::uint64_t seed) {
  PieceSource src(p, pattern, seed);
  Channel ch(p);
  ChannelRun run;
  std::vector<Piece> window;
  for (int i = 0; i < kWindow; ++i) window.push_back(src.next());
  while (run.accesses < max_accesses) {
    // First ready: the piece whose data can start earliest; ties go to the oldest.
    std::size_t best = 0;
    AccessPlan bp = ch.plan(window[0]);
    for (std::size_t i = 1; i < window.size(); ++i) {
      AccessPlan pl = ch.plan(window[i]);
      if (pl.data_start < bp.data_start) {
        bp = pl;
        best = i;
      }
    }
    if (ch.refresh_due(bp)) {
      ch.refresh(run);
      continue;
    }
    // Measure over exactly min_time: the piece that would end past it is not counted.
    if (bp.data_end > min_time) {
      run.time = min_time;
      return run;
    }
    ch.commit(window[best], bp, run);
    run.bytes += window[best].bytes;
    run.time = bp.data_end;
    ++run.accesses;
    // The freed queue slot takes the next piece once this one's column command issues.
    window.erase(window.begin() + static_cast<std::ptrdiff_t>(best));
    Piece nxt = src.next();
    nxt.arrive = bp.cas;
    window.push_back(nxt);
  }
  return run;
}

DramTierModel::DramTierModel(const MemoryTierSpec& spec)
    : params_(dram_params_for(spec)), catalog_latency_(spec.latency) {}

BytesPerSecond DramTierModel::bandwidth(const AccessPattern& a) const {
  Key key{static_cast<int>(a.kind), a.granule, a.read_fraction};
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  Seconds span = params_.tREFI > 0 ? kRefreshWindows * params_.tREFI : Seconds{32e-6};
  ChannelRun run = simulate_channel(params_, a, span);
  BytesPerSecond bw = params_.channels * run.bandwidth();
  cache_.emplace(key, bw);
  return bw;
}

Seconds DramTierModel::latency(const AccessPattern& a) const {
  Bytes first = std::min(std::max<Bytes>(a.granule, 1), params_.row_bytes);
  double bursts = std::ceil(first / params_.burst_bytes() - 1e-9);
  Seconds device = params_.tRCD + params_.tCL + bursts * params_.tBURST();
  // A catalog latency is a measured whole-path figure (controller, on-chip network); the
  // DRAM device's own closed-bank access is a floor under it.
  return std::max(catalog_latency_, device);
}

namespace {
LLMSIM_REGISTER_TIER_MODEL(DramTierModel, "dram");
}  // namespace

}  // namespace llmsim
