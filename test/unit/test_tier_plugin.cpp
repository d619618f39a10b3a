// The tier-model seam from the outside (issue 10): a timing model registered by test code,
// selected by a tier's `model:`, times the bytes that ops stream through that tier on a
// device; a TLM-2.0 target module written here, selected by `model: tlm`, does the same
// through the tier's socket (probed, models/tier_model_tlm.h); and the shipped DRAM channel
// model runs a copy within 10 % of the bandwidth model (test_tier_models.cpp checks the
// model itself, test_tier_cli.cpp the patterns through the binary).
#include <catch2/catch.hpp>

#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <stdexcept>
#include <string>

#include "models/device.h"
#include "models/tier_model.h"
#include "models/tier_model_tlm.h"
#include "sim/engine/simulation.h"
#include "device_rig.h"
#include "mini_chip.h"

namespace test_tier_plugin {

using namespace llmsim;

namespace {

// A plugged-in tier: 1 GB/s and 1 us for every access pattern.
class FixedTier : public TierModel {
 public:
  explicit FixedTier(const MemoryTierSpec&) {}
  BytesPerSecond bandwidth(const AccessPattern&) const override { return 1e9; }
  Seconds latency(const AccessPattern&) const override { return 1e-6; }
  std::string name() const override { return "test-fixed"; }
};
LLMSIM_REGISTER_TIER_MODEL(FixedTier, "test-fixed");

// A third-party TLM-2.0 target, as a user would write one: it knows nothing of llmsim's
// extension. Each transaction occupies it kRead or kWrite, plus kMiss when its address does
// not continue the previous one (a row-buffer miss of its own). An SC_THREAD of its own
// counts nothing useful; it is there because plugged-in targets may have processes.
class SlowWriteTarget : public sc_core::sc_module {
 public:
  static constexpr double kRead = 1e-9, kWrite = 3e-9, kMiss = 10e-9;
  tlm_utils::simple_target_socket<SlowWriteTarget> socket;
  SC_HAS_PROCESS(SlowWriteTarget);
  SlowWriteTarget(const sc_core::sc_module_name& n, const MemoryTierSpec&) : sc_core::sc_module(n), socket("socket") {
    socket.register_b_transport(this, &SlowWriteTarget::b_transport);
    SC_THREAD(idle);
  }
  int transactions = 0;

 private:
  void idle() { wait(1, sc_core::SC_US); }
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    double d = t.is_write() ? kWrite : kRead;
    if (t.get_address() != next_) d += kMiss;
    next_ = t.get_address() + t.get_data_length();
    delay += sc_core::sc_time(d, sc_core::SC_SEC);
    ++transactions;
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  std::uint64_t next_ = 0;
};
LLMSIM_REGISTER_TLM_TARGET(SlowWriteTarget, "test-slow-write");

// Targets that break the contract: one waits (not loosely timed), one has no socket.
class WaitingTarget : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<WaitingTarget> socket;
  WaitingTarget(const sc_core::sc_module_name& n, const MemoryTierSpec&) : sc_core::sc_module(n), socket("socket") {
    socket.register_b_transport(this, &WaitingTarget::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload&, sc_core::sc_time&) { wait(1, sc_core::SC_NS); }
};
LLMSIM_REGISTER_TLM_TARGET(WaitingTarget, "test-waiting");

class SocketlessTarget : public sc_core::sc_module {
 public:
  SocketlessTarget(const sc_core::sc_module_name& n, const MemoryTierSpec&) : sc_core::sc_module(n) {}
};
LLMSIM_REGISTER_TLM_TARGET(SocketlessTarget, "test-socketless");

ChipSpec with_hbm_model(const std::string& model, const std::string& target = "") {
  static ChipCatalog catalog(default_catalog_dir());
  ChipSpec chip = catalog.get("nvidia-h100-sxm");
  for (auto& t : chip.memory) {
    if (t.tier != "hbm") continue;
    t.model = model;
    t.target = target;
  }
  return chip;
}

AccessPattern pattern(AccessPattern::Kind kind, Bytes granule, double read_fraction = 1.0) {
  AccessPattern a;
  a.kind = kind;
  a.granule = granule;
  a.read_fraction = read_fraction;
  return a;
}

double copy_seconds(const ChipSpec& chip, Bytes bytes, const std::string& tag, const AccessPattern& p = {}) {
  llmsim_test::DeviceRig r(chip, tag);
  Simulation& sim = r.sim;
  Device& dev = r.dev;
  Op c;
  c.kind = OpKind::Copy;
  c.bytes = bytes;
  c.from = c.to = "hbm";
  c.pattern = p;
  double end = 0;
  dev.stream("copy")->submit(c, [&](const OpCost&) { end = to_seconds(sim.now()); });
  sim.queue().run();
  return end;
}

}  // namespace

TEST_CASE("tier plug-in: a model registered by test code times a device's copies", "[tier_model][contention]") {
  const ChipSpec chip = with_hbm_model("test-fixed");
  Op c;
  c.kind = OpKind::Copy;
  c.bytes = 1e9;
  c.from = c.to = "hbm";
  const OpCost est = estimate_op(c, chip);
  // A same-tier copy reads and writes: 2 GB through the plugged-in 1 GB/s tier.
  const double t = copy_seconds(chip, 1e9, "plug0");
  CHECK(t == Approx(est.prologue + 2.0).epsilon(1e-9));
}

TEST_CASE("tier plug-in: the DRAM channel model, selected per tier, runs a copy near the bandwidth model",
          "[tier_model][contention]") {
  const double bw_model = copy_seconds(with_hbm_model("bandwidth"), 4e9, "plug1");
  const double dram = copy_seconds(with_hbm_model("dram"), 4e9, "plug2");
  CHECK(dram == Approx(bw_model).epsilon(0.10));
}

TEST_CASE("tier plug-in: a TLM-2.0 target from test code times the copies streamed through its tier",
          "[tier_model][tlm]") {
  const ChipSpec chip = with_hbm_model("tlm", "test-slow-write");
  Op c;
  c.kind = OpKind::Copy;
  c.bytes = 1e9;
  c.from = c.to = "hbm";
  const double prologue = estimate_op(c, chip).prologue;
  using K = AccessPattern::Kind;
  using T = SlowWriteTarget;
  // A same-tier copy streams 2 GB through the tier. Sequential 64-byte reads: one kRead per
  // 64 bytes, each continuing the last (no miss).
  CHECK(copy_seconds(chip, 1e9, "tlm0") == Approx(prologue + 2e9 / 64 * T::kRead).epsilon(1e-6));
  // Half writes: on average (kRead + kWrite) / 2 per 64 bytes.
  CHECK(copy_seconds(chip, 1e9, "tlm1", pattern(K::Sequential, 64, 0.5)) ==
        Approx(prologue + 2e9 / 64 * (T::kRead + T::kWrite) / 2).epsilon(1e-6));
  // Random 4 KiB reads: every transaction misses.
  CHECK(copy_seconds(chip, 1e9, "tlm2", pattern(K::Random, 4096)) ==
        Approx(prologue + 2e9 / 4096 * (T::kRead + T::kMiss)).epsilon(1e-6));
}

TEST_CASE("tier plug-in: the tier binds its target as a child and probes it once per pattern", "[tier_model][tlm]") {
  const ChipSpec chip = with_hbm_model("tlm", "test-slow-write");
  llmsim_test::DeviceRig r(chip, "tlm3");
  MemoryTier& hbm = r.dev.tier("hbm");
  auto* target = dynamic_cast<SlowWriteTarget*>(hbm.tlm_target());
  REQUIRE(target != nullptr);
  CHECK(std::string(target->name()) == std::string(hbm.name()) + ".target");
  CHECK(hbm.model().name() == "tlm");
  CHECK(hbm.sustained_bandwidth() == Approx(64 / SlowWriteTarget::kRead));
  CHECK(target->transactions == kProbeTransactions);  // the sequential probe, at elaboration
  const AccessPattern rnd = pattern(AccessPattern::Kind::Random, 4096);
  CHECK(hbm.model().bandwidth(rnd) == Approx(4096 / (SlowWriteTarget::kRead + SlowWriteTarget::kMiss)));
  CHECK(hbm.model().bandwidth(rnd) == hbm.model().bandwidth(rnd));
  CHECK(target->transactions == 2 * kProbeTransactions);  // cached after its own probe
  // A payload sent to the tier's socket reaches the target.
  tlm::tlm_generic_payload t;
  unsigned char data[64] = {};
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(1 << 20);
  t.set_data_ptr(data);
  t.set_data_length(64);
  t.set_streaming_width(64);
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  hbm.socket.get_base_interface().b_transport(t, d);
  CHECK(d == sc_core::sc_time(SlowWriteTarget::kWrite + SlowWriteTarget::kMiss, sc_core::SC_SEC));
  CHECK(target->transactions == 2 * kProbeTransactions + 1);
}

TEST_CASE("tier plug-in: the shipped models answer payloads on the tier's socket as they time ops",
          "[tier_model][tlm]") {
  for (const char* model : {"bandwidth", "dram"}) {
    INFO(model);
    const ChipSpec chip = with_hbm_model(model);
    llmsim_test::DeviceRig r(chip, std::string("tlm-") + model);
    MemoryTier& hbm = r.dev.tier("hbm");
    // 4 KiB transactions: a few hundred ps each, well above the 1 ps sc_time resolution.
    for (const AccessPattern& p : {pattern(AccessPattern::Kind::Sequential, 4096),
                                   pattern(AccessPattern::Kind::Random, 4096)}) {
      TlmProbe pr = probe_tlm_target(hbm.socket.get_base_interface(), p, hbm.spec().capacity, "probe");
      CHECK(pr.bandwidth() == Approx(hbm.model().bandwidth(p)).epsilon(1e-3));
      CHECK(pr.latency() == Approx(hbm.model().latency(p)).epsilon(1e-3).margin(2e-12));
    }
  }
}

// A failed elaboration leaves SystemC's module stack as it is: one refusal per test case.
TEST_CASE("tier plug-in: a TLM target that waits is refused by name", "[tier_model][tlm]") {
  try {
    llmsim_test::DeviceRig r(with_hbm_model("tlm", "test-waiting"), "tlm-wait");
    FAIL("a waiting target was accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("without waiting (loosely timed)") != std::string::npos);
  }
}

TEST_CASE("tier plug-in: a TLM target without a socket is refused by name", "[tier_model][tlm]") {
  try {
    llmsim_test::DeviceRig r(with_hbm_model("tlm", "test-socketless"), "tlm-nosock");
    FAIL("a target without a socket was accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("'test-socketless' has no 32-bit tlm_target_socket") != std::string::npos);
  }
}

namespace {
std::string chip_error(const std::string& tier_line) {
  try {
    load_chip(parse_doc(llmsim_test::kMiniChipHead + tier_line + "\n", "chip.yaml"));
  } catch (const InputError& e) {
    return e.located();
  }
  return "(accepted)";
}
}  // namespace

TEST_CASE("tier plug-in: chip files name a registered TLM target, with positioned errors", "[tier_model][tlm]") {
  const std::string head = "  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s, ";
  ChipSpec c = load_chip(parse_doc(llmsim_test::kMiniChipHead + head + "model: tlm, target: test-slow-write}\n", "c.yaml"));
  CHECK(c.memory.at(0).model == "tlm");
  CHECK(c.memory.at(0).target == "test-slow-write");
  std::string e = chip_error(head + "model: tlm, target: test-slow-writ}");
  CHECK(e.find("chip.yaml:9:72: ") == 0);  // at "test-slow-writ"
  CHECK(e.find("unknown TLM target 'test-slow-writ' (did you mean 'test-slow-write'?)") != std::string::npos);
  e = chip_error(head + "model: tlm}");
  CHECK(e.find("chip.yaml:9:") == 0);
  CHECK(e.find("model tlm needs `target:`") != std::string::npos);
  e = chip_error(head + "model: dram, target: test-slow-write}");
  CHECK(e.find("only to `model: tlm`") != std::string::npos);
}

}  // namespace test_tier_plugin
