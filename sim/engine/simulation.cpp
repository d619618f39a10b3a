#include "sim/engine/simulation.h"

#include "models/device.h"
#include "models/network.h"

namespace llmsim {

Simulation::Simulation(const Topology& topo, RunOptions options) : topo_(topo), options_(std::move(options)) {
  queue_.set_tie_shuffle(options_.tie_shuffle);
}

Simulation::~Simulation() = default;

void Simulation::elaborate(const std::string& prefix) {
  devices_.reserve(static_cast<size_t>(topo_.num_devices()));
  for (int i = 0; i < topo_.num_devices(); ++i) {
    const auto& v = topo_.vertices[static_cast<size_t>(i)];
    std::string name = prefix + v.name;
    for (auto& c : name) if (c == '.') c = '_';  // SystemC names use '.' as hierarchy separator
    devices_.push_back(std::make_unique<Device>(name.c_str(), i, *topo_.device_chip[static_cast<size_t>(i)], *this));
  }
  network_ = std::make_unique<Network>((prefix + "network").c_str(), *this);
  network_->build_fabrics(prefix);
}

}  // namespace llmsim
