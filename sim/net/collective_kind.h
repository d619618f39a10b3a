// What a collective is and what it reports: shared by the network module
// (models/network.h) and the algorithms that decompose a collective into transfers
// (sim/net/collective.h, sim/net/runner.h), which sit below it.
#pragma once
#include <string>
#include <vector>

#include "sim/core/units.h"

namespace llmsim {

enum class CollectiveKind { AllReduce, AllGather, ReduceScatter, AllToAll, Broadcast, Reduce, SendRecv };
const char* collective_name(CollectiveKind k);

struct CollectiveResult {
  Seconds time = 0;
  std::string algorithm;          // the algorithm actually used (after `auto`)
  std::string protocol;           // the library's protocol it ran ("" = no library modelled)
  // nccl-tests definitions: algbw = size / time; busbw = algbw * factor(kind, n).
  BytesPerSecond algbw = 0;
  BytesPerSecond busbw = 0;
  // Per dimension / level (torus dims, hierarchical intra/inter): time spent in its
  // phases and the busbw of that dimension's own collective over that time.
  struct Dim {
    std::string label;
    Seconds time = 0;
    BytesPerSecond busbw = 0;
  };
  std::vector<Dim> dims;
};

}  // namespace llmsim
