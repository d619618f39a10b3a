// A plugged-in TLM-2.0 target with a process of its own behind a device's HBM tier, under
// the real SystemC kernel (issue 10). Elaboration binds every socket (sc_start refuses an
// unbound one); an initiator of the test's own, bound to the tier's socket, reaches the
// target at run time and sees the state the target's SC_THREAD changed; a copy on the
// device runs at the rate the tier's elaboration probe measured.
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cmath>
#include <cstdio>

#include "../unit/device_rig.h"
#include "models/sc_kernel.h"
#include "models/tier_model_tlm.h"

using namespace llmsim;

namespace {

int failures = 0;
void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

constexpr double kFast = 1e-9, kSlow = 4e-9;  // per 64-byte transaction, before / after 1 us

// Throttles itself after 1 us of simulated time (its own SC_THREAD flips the state).
struct ThrottlingTarget : sc_core::sc_module {
  tlm_utils::simple_target_socket<ThrottlingTarget> socket;
  bool throttled = false;
  SC_HAS_PROCESS(ThrottlingTarget);
  ThrottlingTarget(const sc_core::sc_module_name& n, const MemoryTierSpec&) : sc_core::sc_module(n), socket("socket") {
    socket.register_b_transport(this, &ThrottlingTarget::b_transport);
    SC_THREAD(throttle);
  }
  void throttle() {
    wait(1, sc_core::SC_US);
    throttled = true;
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    delay += sc_core::sc_time(throttled ? kSlow : kFast, sc_core::SC_SEC);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};
LLMSIM_REGISTER_TLM_TARGET(ThrottlingTarget, "sc-throttling");

// Reads 64 bytes through the tier's socket at 0 and at 2 us.
struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket;
  sc_core::sc_time seen[2];
  SC_HAS_PROCESS(Initiator);
  explicit Initiator(const sc_core::sc_module_name& n) : sc_core::sc_module(n), socket("socket") { SC_THREAD(run); }
  void run() {
    for (int i = 0; i < 2; ++i) {
      if (i == 1) wait(2, sc_core::SC_US);
      unsigned char data[64] = {};
      tlm::tlm_generic_payload t;
      t.set_command(tlm::TLM_READ_COMMAND);
      t.set_address(0);
      t.set_data_ptr(data);
      t.set_data_length(64);
      t.set_streaming_width(64);
      seen[i] = sc_core::SC_ZERO_TIME;
      socket->b_transport(t, seen[i]);
    }
  }
};

}  // namespace

int main() {
  set_systemc_resolution();
  ChipSpec chip = llmsim_test::catalog().get("nvidia-h100-sxm");
  for (auto& t : chip.memory) {
    if (t.tier != "hbm") continue;
    t.model = "tlm";
    t.target = "sc-throttling";
  }
  llmsim_test::DeviceRig rig(chip, "gpu");
  Initiator ini("initiator");
  ini.socket.bind(rig.dev.tier("hbm").socket);
  ScKernel kernel("kernel", rig.sim.queue());
  Op c;
  c.kind = OpKind::Copy;
  c.bytes = 1e6;
  c.from = c.to = "hbm";
  const double prologue = estimate_op(c, chip).prologue;
  double end = -1;
  rig.dev.stream("copy")->submit(c, [&](const OpCost&) { end = to_seconds(rig.sim.now()); });
  run_under_systemc(kernel, rig.sim.queue());
  auto* target = dynamic_cast<ThrottlingTarget*>(rig.dev.tier("hbm").tlm_target());
  expect(target != nullptr && target->throttled, "the target's own thread ran");
  expect(ini.seen[0] == sc_core::sc_time(kFast, sc_core::SC_SEC), "at 0 the initiator sees the fast target");
  expect(ini.seen[1] == sc_core::sc_time(kSlow, sc_core::SC_SEC), "at 2 us it sees the throttled target");
  // 2 MB through the tier (read + write) at the probe's 64 B per kFast.
  const double want = prologue + 2e6 / 64 * kFast;
  expect(end > 0 && std::abs(end - want) < 1e-6 * want, "the copy ends at the probed rate");
  std::printf("%s\n", failures == 0 ? "1 passed, 0 failed" : "0 passed, 1 failed");
  return failures == 0 ? 0 : 1;
}
