#include "models/network.h"

#include "sim/engine/simulation.h"
#include "sim/net/flow_net.h"
#include "sim/net/runner.h"

namespace llmsim {
namespace {
// Largest number of link directions (or devices) whose tracks are created up front.
constexpr size_t kMaxEagerTracks = 32768;
}  // namespace

const char* collective_name(CollectiveKind k) {
  switch (k) {
    case CollectiveKind::AllReduce: return "allreduce";
    case CollectiveKind::AllGather: return "allgather";
    case CollectiveKind::ReduceScatter: return "reducescatter";
    case CollectiveKind::AllToAll: return "alltoall";
    case CollectiveKind::Broadcast: return "broadcast";
    case CollectiveKind::Reduce: return "reduce";
    case CollectiveKind::SendRecv: return "sendrecv";
  }
  return "?";
}

Network::Network(const sc_core::sc_module_name& name, Simulation& sim)
    : sc_core::sc_module(name), sim_(sim),
      flows_(std::make_unique<FlowNet>(sim.topo(), sim.queue(), sim.recorder())),
      runner_(std::make_unique<CollectiveRunner>(sim.topo(), sim.queue(), sim.recorder(), *flows_)) {
  // VCD signals must exist before the simulation starts, so tracks are made here, while
  // elaborating, for systems small enough to read as waveforms; bigger ones create
  // tracks on first use (timeline only; use --timeline-filter to select).
  if (sim.recorder().on() && sim.topo().links.size() * 2 <= kMaxEagerTracks) flows_->create_tracks();
  if (sim.recorder().on() && sim.topo().num_devices() <= static_cast<int>(kMaxEagerTracks)) runner_->create_tracks();
}

Network::~Network() = default;

void Network::transfer(int src, int dst, Bytes bytes, std::function<void()> done) {
  flows_->transfer(src, dst, bytes, std::move(done));
}

void Network::collective(CollectiveKind kind, const std::vector<int>& group, Bytes bytes, const std::string& algorithm,
                         std::function<void(const CollectiveResult&)> done, int root) {
  runner_->collective(kind, group, bytes, algorithm, std::move(done), root);
}

void Network::set_link_bandwidth(int u, int v, BytesPerSecond bw, bool one_way) {
  flows_->set_link_bandwidth(u, v, bw, one_way);
}

void Network::set_link_bandwidth_fraction(int u, int v, double fraction_of_nominal, bool one_way) {
  flows_->set_link_bandwidth_fraction(u, v, fraction_of_nominal, one_way);
}

void Network::set_link_up(int u, int v, bool up) { flows_->set_link_up(u, v, up); }

}  // namespace llmsim
