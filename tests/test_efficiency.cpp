// Efficiency tables (rooftop.efficiency/1): the bounds of every field, stated in the error with
// the file and the JSON pointer; gpu/architecture agreement; the documented example.
#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>
#include <unistd.h>

using namespace rooftop;

namespace {

/// A valid table with every required field.
nlohmann::json base_table() {
  return {{"schema", "rooftop.efficiency/1"},
          {"defaults",
           {{"gemm_flops_efficiency", 0.8},
            {"attention_flops_efficiency", 0.6},
            {"hbm_bandwidth_efficiency", 0.88},
            {"nvlink_bandwidth_efficiency", 0.82},
            {"network_bandwidth_efficiency", 0.96},
            {"nvls_bandwidth_efficiency", 0.61},
            {"kernel_overhead_s", 2e-6},
            {"collective_latency_s", 1e-5}}}};
}

/// Loads `table` for an H100; the InputError's message, or "" when it loads.
std::string load_table(const nlohmann::json &table) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("rooftop_test_efficiency_" + std::to_string(getpid()) + ".json");
  std::ofstream(path) << table.dump();
  try {
    hw::load_default_efficiency(path, hw::GpuCatalogue::builtin().get("h100-sxm"));
  } catch (const InputError &e) {
    return e.what();
  }
  return "";
}

/// Loads the base table for an H100 with `defaults` edited; the InputError's message, or "".
std::string load_with(const nlohmann::json &edit) {
  auto j = base_table();
  j["defaults"].update(edit);
  return load_table(j);
}

/// The table with `edit` is refused with one error naming the file, `pointer` and `what`.
void refused(const nlohmann::json &edit, const std::string &pointer, const std::string &what) {
  const std::string e = load_with(edit);
  INFO(edit.dump() << " -> " << e);
  CHECK(e.find(".json: " + pointer) != std::string::npos);
  CHECK(e.find(what) != std::string::npos);
}

} // namespace

TEST_CASE("efficiency bounds: values at the bounds load") {
  CHECK(load_table(base_table()).empty());
  CHECK(load_with({{"gemm_tile_m", 4096}, {"gemm_tile_n", 1}}).empty());
  CHECK(load_with({{"gemm_m_half", 1e9}, {"attention_context_half", 1e9}}).empty());
  CHECK(load_with({{"kernel_overhead_s", 1.0}, {"collective_latency_s", 0.0}}).empty());
  CHECK(load_with({{"hbm_bandwidth_efficiency", 1e-4}}).empty());
  CHECK(load_with({{"attention_bandwidth_efficiency", 0}}).empty()); // 0 = off
  CHECK(load_with({{"gemm_bandwidth_efficiency_by_dtype", {{"fp8", 1e-4}}},
                   {"gemm_overhead_s_by_dtype", {{"bf16", 1.0}}}}).empty());
  CHECK(load_with({{"gemm_quantize_bandwidth_efficiency_by_dtype", {{"fp8", 1e-4}, {"fp4", 1}}}}).empty());
  CHECK(load_with({{"attention_fixed_s", 1.0}, {"attention_item_s", 0.0},
                   {"attention_prefill_bandwidth_efficiency", 0}}).empty());
  CHECK(load_with({{"attention_fixed_s", 1e-5},
                   {"attention_decode_by_kv_dtype",
                    {{"fp8", {{"attention_fixed_s", 1.0}, {"attention_item_s", 0.0},
                              {"attention_bandwidth_efficiency", 1e-4}}}}}}).empty());
}

TEST_CASE("attention_decode_by_kv_dtype: whole entries of known KV-cache types") {
  const nlohmann::json whole = {{"attention_fixed_s", 7e-6}, {"attention_item_s", 1e-8},
                                {"attention_bandwidth_efficiency", 0.8}};
  CHECK(load_with({{"attention_fixed_s", 1e-5}, {"attention_decode_by_kv_dtype", {{"fp8", whole}}}}).empty());
  // Without the additive attention cost the terms would never apply: refused.
  refused({{"attention_decode_by_kv_dtype", {{"fp8", whole}}}}, "/defaults",
          "attention_decode_by_kv_dtype applies only with the additive attention cost");
  // Checked on the merged layers and for every architecture's entry, whatever the GPU (H100
  // here): the terms in /per_architecture/hopper over an additive /defaults load; in
  // /per_architecture/ampere over a /defaults without the additive cost, refused.
  auto layered = base_table();
  layered["defaults"]["attention_fixed_s"] = 1e-5;
  layered["per_architecture"] = {{"hopper", {{"attention_decode_by_kv_dtype", {{"fp8", whole}}}}}};
  CHECK(load_table(layered).empty());
  layered["defaults"].erase("attention_fixed_s");
  layered["per_architecture"] = {{"ampere", {{"attention_decode_by_kv_dtype", {{"fp8", whole}}}}}};
  const std::string e = load_table(layered);
  CHECK(e.find(".json: /defaults with /per_architecture/ampere") != std::string::npos);
  CHECK(e.find("applies only with the additive attention cost") != std::string::npos);
  refused({{"attention_fixed_s", 1e-5}, {"attention_decode_by_kv_dtype", {{"fp7", whole}}}},
          "/defaults/attention_decode_by_kv_dtype/fp7", "unknown data type");
  refused({{"attention_fixed_s", 1e-5}, {"attention_decode_by_kv_dtype", {{"bfloat16", whole}}}},
          "/defaults/attention_decode_by_kv_dtype/bfloat16", "an alias");
  refused({{"attention_fixed_s", 1e-5}, {"attention_decode_by_kv_dtype", {{"bf16", whole}}}},
          "/defaults/attention_decode_by_kv_dtype/bf16", "the table's own");
  for (const char *key : {"attention_fixed_s", "attention_item_s", "attention_bandwidth_efficiency"}) {
    nlohmann::json part = whole;
    part.erase(key);
    refused({{"attention_fixed_s", 1e-5}, {"attention_decode_by_kv_dtype", {{"fp8", part}}}},
            std::string("/defaults/attention_decode_by_kv_dtype/fp8/") + key, key);
  }
  nlohmann::json bad = whole;
  bad["attention_bandwidth_efficiency"] = 0;
  refused({{"attention_fixed_s", 1e-5}, {"attention_decode_by_kv_dtype", {{"fp8", bad}}}},
          "/defaults/attention_decode_by_kv_dtype/fp8/attention_bandwidth_efficiency", "in [1e-4, 1]");
  bad = whole;
  bad["attention_fixed_s"] = 2;
  refused({{"attention_fixed_s", 1e-5}, {"attention_decode_by_kv_dtype", {{"fp8", bad}}}},
          "/defaults/attention_decode_by_kv_dtype/fp8/attention_fixed_s", "must be in [0, 1] (s)");
  bad = whole;
  bad["extra"] = 1;
  refused({{"attention_fixed_s", 1e-5}, {"attention_decode_by_kv_dtype", {{"fp8", bad}}}},
          "/defaults/attention_decode_by_kv_dtype/fp8/extra", "extra");
}

TEST_CASE("efficiency bounds: beyond them, an error with the pointer and the bound") {
  const std::string whole = "0 (off) or a whole number in [1, 4096] (rows)";
  refused({{"gemm_tile_m", 1e-320}, {"gemm_tile_n", 128}}, "/defaults/gemm_tile_m", whole);
  refused({{"gemm_tile_m", 0.5}, {"gemm_tile_n", 128}}, "/defaults/gemm_tile_m", whole);
  refused({{"gemm_tile_m", 4097}, {"gemm_tile_n", 128}}, "/defaults/gemm_tile_m", whole);
  refused({{"gemm_tile_m", 128}, {"gemm_tile_n", 127.5}}, "/defaults/gemm_tile_n",
          "whole number in [1, 4096] (columns)");
  refused({{"gemm_m_half", 1e308}}, "/defaults/gemm_m_half", "must be in [0, 1e9] (rows)");
  refused({{"attention_context_half", 1.5e9}}, "/defaults/attention_context_half",
          "must be in [0, 1e9] (tokens)");
  refused({{"kernel_overhead_s", 1e308}}, "/defaults/kernel_overhead_s", "must be in [0, 1] (s)");
  refused({{"collective_latency_s", 2}}, "/defaults/collective_latency_s", "must be in [0, 1] (s)");
  refused({{"attention_fixed_s", 2}}, "/defaults/attention_fixed_s", "must be in [0, 1] (s)");
  refused({{"gemm_overhead_s_by_dtype", {{"bf16", 2}}}}, "/defaults/gemm_overhead_s_by_dtype/bf16",
          "must be in [0, 1] (s)");
  refused({{"gemm_bandwidth_efficiency_by_dtype", {{"fp8", 0}}}},
          "/defaults/gemm_bandwidth_efficiency_by_dtype/fp8", "in [1e-4, 1]");
  refused({{"gemm_bandwidth_efficiency_by_dtype", {{"int4", 0.5}}}},
          "/defaults/gemm_bandwidth_efficiency_by_dtype/int4", "weight-only");
  refused({{"gemm_quantize_bandwidth_efficiency_by_dtype", {{"fp8", 0}}}},
          "/defaults/gemm_quantize_bandwidth_efficiency_by_dtype/fp8", "in [1e-4, 1]");
  refused({{"gemm_quantize_bandwidth_efficiency_by_dtype", {{"bf16", 0.5}}}},
          "/defaults/gemm_quantize_bandwidth_efficiency_by_dtype/bf16", "not to a 16-bit one");
  refused({{"gemm_quantize_bandwidth_efficiency_by_dtype", {{"e4m3", 0.5}}}},
          "/defaults/gemm_quantize_bandwidth_efficiency_by_dtype/e4m3", "unknown data type");
  refused({{"attention_item_s", -1e-9}}, "/defaults/attention_item_s", "attention_item_s");
  refused({{"attention_prefill_bandwidth_efficiency", 1.5}},
          "/defaults/attention_prefill_bandwidth_efficiency", "fraction");
  refused({{"hbm_bandwidth_efficiency", 5e-324}}, "/defaults/hbm_bandwidth_efficiency",
          "in [1e-4, 1] (fraction of peak)");
  refused({{"gemm_flops_efficiency", 0}}, "/defaults/gemm_flops_efficiency", "in [1e-4, 1]");
  refused({{"attention_bandwidth_efficiency", 1e-9}}, "/defaults/attention_bandwidth_efficiency",
          "0 (off) or in [1e-4, 1]");
  refused({{"gemm_flops_efficiency_by_dtype", {{"bf16", 0}}}},
          "/defaults/gemm_flops_efficiency_by_dtype/bf16", "in [1e-4, 1]");
}

TEST_CASE("gemm_flops_efficiency_by_dtype takes only GEMM input types, by their own names") {
  // The model looks an entry up by a GEMM's input (activation) type. int4 is weight-only, so an
  // int4 entry was accepted and never used; so was an alias such as "bfloat16".
  const auto by_dtype = [](const std::string &key) {
    return load_with({{"gemm_flops_efficiency_by_dtype", {{key, 0.5}}}});
  };
  const std::string accepted = "keys are GEMM input types: fp64, fp32, tf32, bf16, fp16, fp8, "
                               "int8, fp4, mxfp4)";
  for (const auto &[key, why] : std::vector<std::pair<std::string, std::string>>{
           {"int4", "int4 is weight-only, never a GEMM input"},
           {"bfloat16", "an alias: write \"bf16\""},
           {"float16", "an alias: write \"fp16\""},
           {"fp7", "unknown data type"}}) {
    const std::string e = by_dtype(key);
    INFO(key << " -> " << e);
    CHECK(e.find(".json: /defaults/gemm_flops_efficiency_by_dtype/" + key + " = 0.5: " + why) !=
          std::string::npos);
    CHECK(e.find(accepted) != std::string::npos);
  }
  for (const std::string key : {"fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4",
                                "mxfp4"})
    CHECK(by_dtype(key).empty());
}

TEST_CASE("a gemm_flops_efficiency_by_dtype entry sets the GEMM efficiency of its input type") {
  hw::Efficiency e;
  e.gemm_flops = 0.8;
  e.gemm_flops_by_dtype = {{"fp8", 0.6}};
  CHECK(e.gemm_efficiency(DType::fp8, 0) == 0.6);
  CHECK(e.gemm_efficiency(DType::bf16, 0) == 0.8); // no entry: gemm_flops
}

TEST_CASE("a measured table's gpu and architecture agree: host-cpu exactly with cpu") {
  const auto measured = [](const std::string &gpu, const std::string &arch) {
    auto j = base_table();
    j.update({{"origin", "measured"}, {"gpu", gpu}, {"architecture", arch}});
    return load_table(j);
  };
  CHECK(measured("h100-sxm", "hopper").empty());
  CHECK(measured("h200-sxm", "hopper").empty()); // transferred within the architecture
  // A CPU table labelled hopper would have been transferred to every Hopper GPU.
  CHECK(measured("host-cpu", "hopper").find(".json: /architecture = "
                                            "\"hopper\": must be \"cpu\" exactly when /gpu is "
                                            "\"host-cpu\"") != std::string::npos);
  CHECK(measured("h100-sxm", "cpu").find("/architecture = \"cpu\": must be \"cpu\" exactly when") !=
        std::string::npos);
  CHECK(measured("h100-sxm", "ampere").find("/architecture = \"ampere\": disagrees with /gpu = "
                                            "\"h100-sxm\", a hopper GPU") != std::string::npos);
  CHECK(measured("h100-sxm", "hoper").find("/architecture = \"hoper\": unknown architecture") !=
        std::string::npos);
  auto no_arch = base_table();
  no_arch.update({{"origin", "measured"}, {"gpu", "h100-sxm"}});
  CHECK(load_table(no_arch).find(
            ".json: /architecture: missing, and required in a measured table") !=
        std::string::npos);
}

TEST_CASE("an efficiency table's description and notes are text") {
  auto j = base_table();
  j["notes"] = 5;
  CHECK(load_table(j).find("/notes = 5: must be an array of strings") != std::string::npos);
  j = base_table();
  j["description"] = nlohmann::json::array();
  CHECK(load_table(j).find("/description = []: must be a string") != std::string::npos);
}

TEST_CASE("the rooftop.efficiency/1 example of docs/schemas.md is a valid file") {
  // tests/data/good/efficiency-documented.json is a copy of the example; it must load, and the
  // page must still show it verbatim, so neither can change alone.
  const std::string copy = ROOFTOP_TEST_DATA_DIR "/good/efficiency-documented.json";
  const auto read = [](const std::string &path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string doc = read(ROOFTOP_TEST_DATA_DIR "/../../docs/schemas.md");
  const std::string example = read(copy);
  REQUIRE(!example.empty());
  CHECK(doc.find("```json\n" + example + "```") != std::string::npos);
  const auto &ampere = hw::GpuCatalogue::builtin().get("a100-sxm-80gb");
  const auto e = hw::load_default_efficiency(copy, ampere);
  CHECK(e.gemm_flops == doctest::Approx(0.87)); // per_architecture/ampere
  CHECK(e.hbm_bandwidth == doctest::Approx(0.88)); // defaults
  CHECK(e.kernel_overhead.value() == doctest::Approx(2e-6));
}

// ---- measured all-reduce curves (hw::AllReduceCurves) ---------------------------------------

namespace {
/// Two group sizes of a made-up curve: 2 GPUs 4 us at 1 KiB, 10 us at 1 MiB, 30 us at 4 MiB.
nlohmann::json curve_table() {
  return {{"scale_up_link", "nvlink4"},
          {"implementation", "test"},
          {"by_ranks",
           {{"2", {{"message_bytes", {1024, 1048576, 4194304}}, {"time_s", {4e-6, 10e-6, 30e-6}}}},
            {"8", {{"message_bytes", {1024, 2048}}, {"time_s", {5e-6, 4e-6}}}}}}};
}
} // namespace

TEST_CASE("a measured all-reduce curve: straight lines between its points, flat below, extended above") {
  hw::AllReduceCurve c{{1024, 1048576, 4194304}, {4e-6, 10e-6, 30e-6}};
  // Below and at the first size: its time, 4 us.
  CHECK(c.time(Bytes(1)).value() == doctest::Approx(4e-6).epsilon(1e-12));
  CHECK(c.time(Bytes(1024)).value() == doctest::Approx(4e-6).epsilon(1e-12));
  // Halfway between 1 KiB and 1 MiB (524800 B): 4 + 6 / 2 = 7 us.
  CHECK(c.time(Bytes(524800)).value() == doctest::Approx(7e-6).epsilon(1e-12));
  // At a point: its time.
  CHECK(c.time(Bytes(1048576)).value() == doctest::Approx(10e-6).epsilon(1e-12));
  // 2 MiB: 10 + 20 x (1 MiB / 3 MiB) = 16.667 us.
  CHECK(c.time(Bytes(2097152)).value() == doctest::Approx(10e-6 + 20e-6 / 3).epsilon(1e-12));
  // Past the last (8 MiB): the last segment's slope, 20 us per 3 MiB: 30 + 20 x 4/3 = 56.667 us.
  CHECK(c.time(Bytes(8388608)).value() == doctest::Approx(30e-6 + 20e-6 * 4 / 3).epsilon(1e-12));
  // A last segment that falls (noise at small sizes): past it, the last point's bandwidth.
  hw::AllReduceCurve f{{1024, 2048}, {5e-6, 4e-6}};
  CHECK(f.time(Bytes(4096)).value() == doctest::Approx(8e-6).epsilon(1e-12)); // 4 us x 2
  hw::AllReduceCurves all;
  all.by_ranks[2] = c;
  CHECK(all.time(2, Bytes(1024)).has_value());
  CHECK(!all.time(4, Bytes(1024)).has_value()); // not measured: NCCL's model
}

TEST_CASE("an efficiency table's allreduce object loads, and refuses what is not a curve") {
  CHECK(load_with({{"allreduce", curve_table()}}).empty());
  const auto refused = [](const nlohmann::json &edit, const std::string &pointer,
                          const std::string &why) {
    auto t = curve_table();
    t.merge_patch(edit);
    const std::string e = load_with({{"allreduce", t}});
    INFO(edit.dump() << " -> " << e);
    CHECK(e.find(".json: /defaults/allreduce" + pointer) != std::string::npos);
    CHECK(e.find(why) != std::string::npos);
  };
  refused({{"scale_up_link", "nvlink9"}}, "/scale_up_link", "unknown link");
  refused({{"by_ranks", {{"1", {{"message_bytes", {1, 2}}, {"time_s", {1e-6, 2e-6}}}}}}},
          "/by_ranks/1", "whole numbers >= 2");
  refused({{"by_ranks", {{"08", {{"message_bytes", {1, 2}}, {"time_s", {1e-6, 2e-6}}}}}}},
          "/by_ranks/08", "without leading zeros");
  refused({{"by_ranks", {{"4", {{"message_bytes", {1024}}, {"time_s", {1e-6}}}}}}},
          "/by_ranks/4/message_bytes", "at least two sizes");
  refused({{"by_ranks", {{"4", {{"message_bytes", {2048, 1024}}, {"time_s", {1e-6, 2e-6}}}}}}},
          "/by_ranks/4/message_bytes/1", "larger than the size before it");
  refused({{"by_ranks", {{"4", {{"message_bytes", {1024, 2048}}, {"time_s", {1e-6}}}}}}},
          "/by_ranks/4/time_s", "one time per message size");
  refused({{"by_ranks", {{"4", {{"message_bytes", {1024, 2048}}, {"time_s", {1e-6, -1}}}}}}},
          "/by_ranks/4/time_s/1", "must be in [1e-12, 3600] (s)");
  refused({{"by_ranks", {{"4", {{"message_bytes", {1024, 2048.5}}, {"time_s", {1e-6, 2e-6}}}}}}},
          "/by_ranks/4/message_bytes/1", "whole number of bytes");
  refused({{"scale_up_link", "pcie-gen5-x16"}}, "/scale_up_link", "a pcie link");
  // 1e12 bytes in 1 ms is 1000 TB/s, above NVLink 4's 450 GB/s one way.
  refused({{"by_ranks", {{"4", {{"message_bytes", {1024, 1e12}}, {"time_s", {1e-6, 1e-3}}}}}}},
          "/by_ranks/4/time_s/1", "above the 450 GB/s one-way bandwidth of nvlink4");
  refused({{"by_ranks", {{"4", {{"message_bytes", {0.5, 2048}}, {"time_s", {1e-6, 2e-6}}}}}}},
          "/by_ranks/4/message_bytes/0", "(bytes)");
  refused({{"by_ranks", {{"2", {{"message_bytes", {1024, 2048}}, {"time_s", {1e-6, 2e-6}}, {"x", 1}}}}}},
          "/by_ranks/2/x", "");
}
