// `llmsim devices` (the catalog: dense per-chip figures the simulator uses, or the review's
// Tables 1-3 as published) and the chip part of `llmsim check`. docs/catalog.md.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <set>
#include <sstream>

#include "sim/cli/commands.h"
#include "sim/cli/text_table.h"

namespace llmsim {
namespace {

using ordered_json = nlohmann::ordered_json;

// Dtypes shown in the dense table, in the order people compare them.
const std::vector<std::string> kShownDtypes = {"bf16", "fp16", "fp8", "int8", "fp32"};
const std::vector<std::string> kTierOrder = {"sram", "hbm", "gddr", "lpddr", "ddr"};

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// "989.4 TFLOPS" / "1979 TOPS" for integer dtypes; "-" when the chip lacks the dtype.
std::string peak_text(const ChipSpec& c, const std::string& dtype) {
  auto it = c.compute.peak.find(dtype);
  if (it == c.compute.peak.end()) return "-";
  std::string s = format_quantity(it->second, Dim::Flops, 4);
  if (dtype.compare(0, 3, "int") == 0) s.replace(s.size() - 5, 5, "OPS");
  return s;
}

std::string memory_text(const ChipSpec& c) {
  std::string s;
  for (const auto& t : c.memory) {
    if (!s.empty()) s += "; ";
    s += t.tier + " " + format_quantity(t.capacity, Dim::Size, 4) + " @ " +
         format_quantity(t.bandwidth, Dim::Bandwidth, 4);
  }
  return s;
}

// "C1 C2" for a chip fitted on its own rows; "inherited from nvidia-h100-sxm (C1 C2)" when
// its fitted figures are borrowed (both when some are): users see what is not the chip's own.
std::string fitted_text(const ChipSpec& c) {
  std::set<std::string> own, inherited;
  for (const auto& [param, src] : c.fitted) (src.rfind("inherited from", 0) == 0 ? inherited : own).insert(src);
  std::string s;
  for (const auto& o : own) s += (s.empty() ? "" : " ") + o;
  for (const auto& i : inherited) s += (s.empty() ? "" : "; ") + i;
  return s.empty() ? "-" : s;
}

void dense_table(const std::vector<const ChipSpec*>& chips, std::ostream& out) {
  TextTable t({"NAME", "UNITS", "CLOCK", "BF16", "FP16", "FP8", "INT8", "FP32", "TDP", "MEMORY (capacity @ peak)",
               "FITTED"});
  for (const ChipSpec* c : chips) {
    std::vector<std::string> row = {c->name, std::to_string(c->compute.units),
                                    format_quantity(c->clock, Dim::Frequency, 4)};
    for (const auto& dt : kShownDtypes) row.push_back(peak_text(*c, dt));
    row.push_back(format_quantity(c->power.tdp, Dim::Power, 4));
    row.push_back(memory_text(*c));
    row.push_back(fitted_text(*c));
    t.add(row);
  }
  t.print(out);
  out << "\nDense per-chip peaks (no 2:4 sparsity, one chip not a platform); "
         "`llmsim devices --as-published` shows the review's tables.\n";
}

void dense_csv(const std::vector<const ChipSpec*>& chips, std::ostream& out) {
  std::vector<std::string> head = {"name", "display", "vendor", "family", "units", "clock_hz"};
  // A weight-only format has no MAC rate of its own (it runs on the 16-bit peak): no column.
  for (const auto& dt : known_dtypes()) {
    if (!weight_only_format(dt)) head.push_back("peak_" + dt + "_flops");
  }
  for (const auto& tier : kTierOrder) {
    head.push_back(tier + "_bytes");
    head.push_back(tier + "_bytes_per_s");
  }
  for (const char* h : {"weights_tier", "tdp_w", "idle_w", "fitted"}) head.push_back(h);
  write_csv_row(head, out);
  for (const ChipSpec* c : chips) {
    std::vector<std::string> row = {c->name, c->display, c->vendor, c->family,
                                    std::to_string(c->compute.units), number(c->clock)};
    for (const auto& dt : known_dtypes()) {
      if (weight_only_format(dt)) continue;
      auto it = c->compute.peak.find(dt);
      row.push_back(it == c->compute.peak.end() ? "" : number(it->second));
    }
    for (const auto& tier : kTierOrder) {
      const MemoryTierSpec* m = c->tier(tier);
      row.push_back(m ? number(m->capacity) : "");
      row.push_back(m ? number(m->bandwidth) : "");
    }
    row.push_back(c->placement.weights);
    row.push_back(number(c->power.tdp));
    row.push_back(number(c->power.idle));
    row.push_back(fitted_text(*c));
    write_csv_row(row, out);
  }
}

ordered_json chip_json(const ChipSpec& c) {
  ordered_json j;
  j["name"] = c.name;
  j["display"] = c.display;
  j["vendor"] = c.vendor;
  j["family"] = c.family;
  j["clock_hz"] = c.clock;
  j["units"] = c.compute.units;
  ordered_json peak = ordered_json::object();
  for (const auto& dt : known_dtypes()) {
    auto it = c.compute.peak.find(dt);
    if (it != c.compute.peak.end()) peak[dt] = it->second;
  }
  j["peak_flops"] = peak;
  j["unit_rate_flops_per_cycle"] = c.compute.unit_rate;
  j["tile"] = {{"m", c.compute.tile_m}, {"n", c.compute.tile_n}, {"k", c.compute.tile_k}};
  j["matrix_efficiency"] = c.compute.matrix_efficiency;
  ordered_json mem = ordered_json::array();
  for (const auto& t : c.memory) {
    mem.push_back({{"tier", t.tier}, {"capacity_bytes", t.capacity},
                   {"bandwidth_bytes_per_s", t.bandwidth}, {"efficiency", t.efficiency}});
  }
  j["memory"] = mem;
  j["placement"] = {{"weights", c.placement.weights}, {"kv_cache", c.placement.kv_cache},
                    {"activations", c.placement.activations}, {"optimizer", c.placement.optimizer},
                    {"stream_from", c.placement.stream_from}, {"staging", c.placement.staging}};
  ordered_json ports = ordered_json::array();
  for (const auto& p : c.ports) {
    ports.push_back({{"kind", p.kind}, {"count", p.count}, {"bandwidth_bytes_per_s_per_direction", p.bandwidth}});
  }
  j["ports"] = ports;
  j["tdp_w"] = c.power.tdp;
  j["idle_w"] = c.power.idle;
  j["in_review"] = c.published_row.has_value();
  j["sources"] = c.sources;
  j["fitted"] = c.fitted;
  if (c.validation)
    j["validation"] = {{"held_out_rows", c.validation->held_out_rows},
                       {"median_abs_error", c.validation->median_abs_error},
                       {"mean_speed_error", c.validation->mean_speed_error}};
  else j["validation"] = nullptr;
  return j;
}

// The review chips in the paper's row order; two files claiming one row is a catalog error.
std::vector<const ChipSpec*> review_chips(const std::vector<const ChipSpec*>& chips) {
  std::vector<const ChipSpec*> out;
  for (const ChipSpec* c : chips) {
    if (c->published_row) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const ChipSpec* a, const ChipSpec* b) {
    return a->published_row->row < b->published_row->row;
  });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i]->published_row->row == out[i - 1]->published_row->row) {
      throw InputError({out[i]->file, 0, 0}, "published.row " + std::to_string(out[i]->published_row->row) +
                                                 " is also claimed by " + out[i - 1]->file);
    }
  }
  return out;
}

const char* table_caption(int table) {
  switch (table) {
    case 1: return "Table 1: Comparison of LLM Accelerator Hardware Specifications";
    case 2: return "Table 2: Comparison of LLM Accelerator Performance";
    default: return "Table 3: Comparison of LLM Accelerator Interconnection";
  }
}

void published_table(const std::vector<const ChipSpec*>& rows, std::ostream& out) {
  for (int table = 1; table <= 3; ++table) {
    std::vector<std::string> head = {"Accelerator"};
    for (const auto& col : published_columns()) {
      if (col.table == table) head.push_back(col.heading);
    }
    TextTable t(head);
    for (const ChipSpec* c : rows) {
      std::vector<std::string> row = {c->published_row->accelerator};
      for (const auto& col : published_columns()) {
        if (col.table == table) row.push_back(c->published_row->cell(col));
      }
      t.add(row);
    }
    if (table > 1) out << "\n";
    out << table_caption(table) << " (as published; sparse and platform figures included)\n";
    t.print(out);
  }
}

void published_csv(const std::vector<const ChipSpec*>& rows, std::ostream& out) {
  std::vector<std::string> head = {"accelerator"};
  for (const auto& col : published_columns()) head.push_back(col.id());
  write_csv_row(head, out);
  for (const ChipSpec* c : rows) {
    std::vector<std::string> row = {c->published_row->accelerator};
    for (const auto& col : published_columns()) row.push_back(c->published_row->cell(col));
    write_csv_row(row, out);
  }
}

void published_json(const std::vector<const ChipSpec*>& rows, std::ostream& out) {
  ordered_json arr = ordered_json::array();
  for (const ChipSpec* c : rows) {
    ordered_json j;
    j["row"] = c->published_row->row;
    j["chip"] = c->name;
    j["accelerator"] = c->published_row->accelerator;
    for (int table = 1; table <= 3; ++table) {
      ordered_json t = ordered_json::object();
      for (const auto& col : published_columns()) {
        if (col.table == table) t[col.key] = c->published_row->cell(col);
      }
      j["table" + std::to_string(table)] = t;
    }
    arr.push_back(j);
  }
  out << arr.dump(2) << "\n";
}

}  // namespace

void check_chip_doc(const Doc& doc, std::ostream& out) {
  ChipSpec c = load_chip(doc);
  out << doc.path << ": chip " << c.name << " (" << c.display << "), " << c.compute.units << " units @ "
      << format_quantity(c.clock, Dim::Frequency, 4) << ", dense";
  for (const auto& dt : kShownDtypes) {
    if (c.compute.supports(dt)) out << " " << dt << " " << peak_text(c, dt);
  }
  out << "; " << memory_text(c) << "; weights in " << c.placement.weights << "; TDP "
      << format_quantity(c.power.tdp, Dim::Power, 4);
  if (c.published_row) out << "; review row " << c.published_row->row << " (" << c.published_row->accelerator << ")";
  out << "\n";
}

int cmd_devices(const DevicesArgs& args, std::ostream& out) {
  ChipCatalog catalog(default_catalog_dir());
  std::vector<const ChipSpec*> chips = catalog.all();
  if (args.as_published) {
    std::vector<const ChipSpec*> rows = review_chips(chips);
    if (args.format == "csv") published_csv(rows, out);
    else if (args.format == "json") published_json(rows, out);
    else published_table(rows, out);
    return 0;
  }
  if (args.format == "csv") {
    dense_csv(chips, out);
  } else if (args.format == "json") {
    ordered_json arr = ordered_json::array();
    for (const ChipSpec* c : chips) arr.push_back(chip_json(*c));
    out << arr.dump(2) << "\n";
  } else {
    dense_table(chips, out);
  }
  return 0;
}

}  // namespace llmsim
