#include "sim/workloads/inference/time_split.h"

#include <algorithm>

namespace llmsim {

void TimeSplit::add(Seconds wall, Seconds device, Seconds comm, double memory_share) {
  device = std::clamp(device, Seconds{0}, wall);
  comm = std::clamp(comm, Seconds{0}, device);
  const Seconds ops = device - comm;
  const double share = std::clamp(memory_share, 0.0, 1.0);
  memory += ops * share;
  compute += ops - ops * share;
  communication += comm;
  host += wall - device;
}

TimeSplit& TimeSplit::operator+=(const TimeSplit& o) {
  compute += o.compute;
  memory += o.memory;
  communication += o.communication;
  host += o.host;
  return *this;
}

Json TimeSplit::to_json() const {
  Json j;
  const Seconds t = total();
  auto frac = [t](Seconds x) { return t > 0 ? x / t : 0.0; };
  j["compute_s"] = compute;
  j["memory_s"] = memory;
  j["communication_s"] = communication;
  j["host_s"] = host;
  j["compute_fraction"] = frac(compute);
  j["memory_fraction"] = frac(memory);
  j["communication_fraction"] = frac(communication);
  j["host_fraction"] = frac(host);
  return j;
}

}  // namespace llmsim
