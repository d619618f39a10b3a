#include <catch2/catch.hpp>

#include "sim/core/yaml_doc.h"

namespace test_yaml_doc {

using namespace llmsim;

TEST_CASE("yaml: syntax errors carry FILE:LINE:COL", "[yaml]") {
  try {
    parse_doc("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.pos().file == "bad.yaml");
    CHECK(e.pos().line >= 2);
    CHECK(e.located().rfind("bad.yaml:", 0) == 0);
  }
}

TEST_CASE("yaml: empty, non-map and binary documents are refused", "[yaml]") {
  CHECK_THROWS_AS(parse_doc("", "e.yaml"), InputError);
  CHECK_THROWS_AS(parse_doc("- 1\n- 2\n", "l.yaml"), InputError);
  CHECK_THROWS_AS(parse_doc(std::string("a: \x01\x02", 6), "b.yaml"), InputError);
}

TEST_CASE("yaml: Fields rejects unknown keys with a did-you-mean hint and position", "[yaml]") {
  Doc d = parse_doc("name: x\nbandwdith: 10 GB/s\n", "t.yaml");
  Fields f(d, "link");
  CHECK(f.str("name") == "x");
  CHECK(f.qty("bandwidth", Dim::Bandwidth, 1.0) == 1.0);
  try {
    f.finish();
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.pos().line == 2);
    CHECK(e.pos().col == 1);
    CHECK(std::string(e.what()).find("did you mean 'bandwidth'") != std::string::npos);
  }
}

TEST_CASE("yaml: bad unit points at the unit", "[yaml]") {
  Doc d = parse_doc("bw: 900 GB\n", "u.yaml");
  Fields f(d, "x");
  try {
    f.qty("bw", Dim::Bandwidth);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.pos().line == 1);
    CHECK(e.pos().col == 9);  // 'GB' starts at column 9
  }
}

TEST_CASE("yaml: --set overrides apply before validation", "[yaml]") {
  Doc d = parse_doc("fabrics:\n  - {name: nv, link: {bandwidth: 450 GB/s}}\nparallelism: {tp: 8}\n", "o.yaml");
  std::vector<Override> ov = {parse_override("topology.fabrics.0.link.bandwidth=400 GB/s"),
                              parse_override("topology.new.key=3"), parse_override("workload.x=1")};
  apply_overrides(d, "topology", ov);
  CHECK(d.root["fabrics"][0]["link"]["bandwidth"].as<std::string>() == "400 GB/s");
  CHECK(d.root["new"]["key"].as<int>() == 3);
  CHECK(!d.root["x"]);
  CHECK_THROWS_AS(apply_overrides(d, "topology", {parse_override("topology.fabrics.5.link=1")}), InputError);
  CHECK_THROWS_AS(parse_override("novalue"), InputError);
  CHECK_THROWS_AS(parse_override("topology=3"), InputError);
}

TEST_CASE("yaml: include merges relative to the including file, keys keep their file", "[yaml]") {
  Doc d = load_doc(std::string(LLMSIM_SOURCE_DIR) + "/test/data/inc-child.yaml");
  CHECK(d.root["count"].as<int>() == 8);
  CHECK(d.root["name"].as<std::string>() == "child");
  CHECK(d.file_of("count").find("inc-base.yaml") != std::string::npos);
  CHECK(d.file_of("name").find("inc-child.yaml") != std::string::npos);
}

TEST_CASE("yaml: an error in a --set value points at the --set argument", "[yaml]") {
  Doc d = parse_doc("link: {bandwidth: 450 GB/s}\n", "o.yaml");
  std::vector<Override> ov = {parse_override("workload.x=1"), parse_override("topology.link.bandwidth=400 GB")};
  apply_overrides(d, "topology", ov);
  Fields f(d.root["link"], d.path, "link");
  try {
    f.qty("bandwidth", Dim::Bandwidth);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.pos().file == "--set");
    CHECK(e.pos().line == 2);                                   // the second --set argument
    CHECK(e.pos().col == static_cast<int>(std::string("topology.link.bandwidth=400 ").size()) + 1);
  }
}

}  // namespace test_yaml_doc
