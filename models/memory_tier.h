// One memory tier of a device (sram | hbm | ddr | lpddr | gddr): capacity accounting by
// named region, and transfers that stream through the tier after its access latency. The
// bandwidth itself is the device's ResourceArbiter's: kernels, copies and collective
// kernels on the same device share it max-min fair, each at what the tier's timing model
// sustains for its access pattern. The tier is a loosely-timed TLM-2.0 target (`socket`):
// its model answers each payload, or with `model: tlm` a plugged-in target module (a child
// named "target") does, and the model is what probing that target measured
// (models/tier_model_tlm.h).
#pragma once
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/spec/chip.h"
#include "models/resource_arbiter.h"
#include "models/tier_model.h"

namespace llmsim {

class ModelContext;

class MemoryTier : public sc_core::sc_module, public tlm::tlm_fw_transport_if<> {
 public:
  MemoryTier(const sc_core::sc_module_name& name, const ChipSpec& chip, const MemoryTierSpec& spec,
             ModelContext& sim, const std::string& device_name, ResourceArbiter& arbiter);

  const MemoryTierSpec& spec() const { return spec_; }

  // Capacity. Regions: weights, kv_cache, activations, optimizer (any name is accepted).
  // allocate adds to a region; throws InfeasibleError naming the region, the shortfall,
  // this tier and device, and what is already placed.
  void allocate(const std::string& region, Bytes bytes);
  // Releases `bytes` of a region (all of it when bytes < 0). Never goes below zero.
  void release(const std::string& region, Bytes bytes = -1);
  Bytes used() const { return used_; }
  Bytes available() const { return spec_.capacity - used_; }
  Bytes region(const std::string& name) const;
  Bytes peak_used() const { return peak_used_; }

  // Streams `bytes` through this tier; `done` runs when the last byte has moved.
  void transfer(Bytes bytes, std::function<void()> done, const AccessPattern& pattern = {});
  // Transfers of this tier's own (transfer()) that have not finished.
  int active_streams() const { return active_; }
  int resource() const { return resource_; }  // index in the device's arbiter
  Bytes bytes_moved() const { return bytes_moved_; }
  Joules energy() const { return energy_; }
  // What the tier's timing model (`model:`, models/tier_model.h) sustains on a long
  // sequential stream: the capacity the device arbiter shares.
  BytesPerSecond sustained_bandwidth() const { return sustained_; }
  const TierModel& model() const { return *model_; }

  // The tier as a TLM-2.0 target. A payload's delay grows by length / bandwidth(pattern),
  // plus latency(pattern) when it opens a stream; the pattern comes from its
  // AccessPatternExtension, else from the addresses (continuing the previous payload:
  // sequential; otherwise random with the payload's length as granule). Optional binding:
  // nothing in llmsim needs to initiate, a testbench or a plugged-in initiator may. A plain
  // socket bound to the tier itself: two sc_objects per tier, no event queue, since every
  // device of a 16k-device topology has one per tier.
  tlm::tlm_target_socket<32, tlm::tlm_base_protocol_types, 1, sc_core::SC_ZERO_OR_MORE_BOUND> socket;
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) override;
  // Base protocol, loosely timed: a BEGIN_REQ completes at once (b_transport's delay).
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& t, tlm::tlm_phase& phase, sc_core::sc_time& delay) override;
  bool get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi&) override { return false; }
  unsigned int transport_dbg(tlm::tlm_generic_payload&) override { return 0; }
  // The plugged-in target module of `model: tlm` (nullptr otherwise).
  sc_core::sc_module* tlm_target() const { return target_module_.get(); }

 private:
  void make_model();
  void start_stream(std::function<void()> done, double work, double joules_per_work);
  void trace_occupancy();
  int track();

  MemoryTierSpec spec_;
  ModelContext& sim_;
  std::string device_name_;
  std::map<std::string, Bytes> regions_;
  Bytes used_ = 0, peak_used_ = 0;
  ResourceArbiter& arbiter_;
  std::unique_ptr<TierModel> model_;
  BytesPerSecond sustained_ = 0;
  Seconds latency_ = 0;
  int resource_ = -1;
  int active_ = 0;
  Bytes bytes_moved_ = 0;
  Joules energy_ = 0;
  double pj_per_byte_ = 0;
  int track_ = -1;
  // model tlm: the target, the initiator socket bound to it, and its forward interface
  // (called directly: the socket's port resolves only at the end of elaboration, and the
  // probe runs before).
  std::unique_ptr<sc_core::sc_module> target_module_;
  std::unique_ptr<tlm_utils::simple_initiator_socket_optional<MemoryTier>> to_target_;
  tlm::tlm_fw_transport_if<>* target_fw_ = nullptr;
  // Payloads without an AccessPatternExtension: where the previous one ended.
  std::uint64_t next_address_ = 0;
  bool seen_payload_ = false;
};

}  // namespace llmsim
