// A small Llama-shaped model file for CLI tests: 4 heads of 64 over a 256-wide residual,
// MLP 512; its operators take nanoseconds, so what a test measures is what it varies
// (hand-offs, collectives).
#pragma once
#include <fstream>
#include <string>

namespace llmsim_test {

// Writes DIR/NAME.yaml with `layers` layers and `vocab` tokens; returns its path.
inline std::string write_tiny_model(const std::string& dir, const std::string& name, int layers, long vocab) {
  const std::string path = dir + "/" + name + ".yaml";
  std::ofstream model(path);
  model << "name: " << name << "\narchitectures: [LlamaForCausalLM]\nhidden_act: silu\nnum_hidden_layers: " << layers
        << "\nhidden_size: 256\nnum_attention_heads: 4\nnum_key_value_heads: 4\nhead_dim: 64\n"
        << "intermediate_size: 512\nvocab_size: " << vocab << "\nmax_position_embeddings: 4096\n";
  return path;
}

}  // namespace llmsim_test
