// CLI tests of bad data files: each is refused with one error line naming the file and the
// field, exit 2 (an InputError), never a crash, an internal error, a NaN or a silent default.
#include "cli_runner.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

const std::string k_data = ROOFTOP_TEST_DATA_DIR;
const std::string k_bad = k_data + "/bad/";

using cli_test::expect_one_error;
using cli_test::Run;

/// Runs the binary with `args` in a fresh temporary directory.
Run rooftop(const std::vector<std::string> &args) {
  const cli_test::TempDir tmp;
  return cli_test::run_rooftop(args, tmp.path);
}

/// A copy of the repository's data/ in a temporary directory, to edit one file of it.
struct DataCopy {
  cli_test::TempDir tmp;
  std::filesystem::path dir = tmp.path / "data";
  DataCopy() {
    std::filesystem::copy(k_data + "/../../data", dir, std::filesystem::copy_options::recursive);
  }
  /// Writes `text` to `relative` (creating its directory).
  void write(const std::string &relative, const std::string &text) const {
    std::filesystem::create_directories((dir / relative).parent_path());
    std::ofstream(dir / relative) << text;
  }
  /// Runs the binary with ROOFTOP_DATA_DIR pointing at the copy.
  [[nodiscard]] Run rooftop(const std::vector<std::string> &args) const {
    const cli_test::TempDir run_dir;
    setenv("ROOFTOP_DATA_DIR", dir.c_str(), 1);
    Run r = cli_test::run_rooftop(args, run_dir.path);
    unsetenv("ROOFTOP_DATA_DIR");
    return r;
  }
};

/// `rooftop estimate` of a small model on an H100 with the efficiency table `file`.
Run estimate_with_efficiency(const std::string &file) {
  return rooftop(
      {"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--efficiency", file});
}

} // namespace

TEST_CASE("cli input: a number beyond a double names the file and the field") {
  expect_one_error(estimate_with_efficiency(k_bad + "efficiency-overflow.json"), 2,
               {"efficiency-overflow.json", "/defaults/gemm_m_half = 1e400", "too large"});
  expect_one_error(rooftop({"validate", "--calibration", k_bad + "calibration-overflow.json"}), 2,
               {"calibration-overflow.json", "/measurements/0/median_s = 1e400"});
  expect_one_error(rooftop({"model", "show", k_bad + "overflow-rope-theta.config.json"}), 2,
               {"overflow-rope-theta.config.json", "/rope_theta = 1e999"});
}

TEST_CASE("cli input: a null for a numeric field is an error, not its default") {
  expect_one_error(estimate_with_efficiency(k_bad + "efficiency-null.json"), 2,
                   {"efficiency-null.json", "/defaults/gemm_m_half = null", "must be a number"});
}

TEST_CASE("cli input: a committed calibration table whose architecture is not a string") {
  // builtin_efficiency scans data/calibration/*/efficiency.json for one of the GPU's
  // architecture; it read "architecture" unchecked (type_error.302, an internal error).
  const DataCopy data;
  data.write("calibration/b200/efficiency.json",
             R"({"schema": "rooftop.efficiency/1", "origin": "measured", "architecture": 5})");
  // (h100-pcie has no table of its own, so the scan reaches b200's before h100-sxm's)
  expect_one_error(data.rooftop({"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-pcie"}), 2,
                   {"b200/efficiency.json", "/architecture = 5", "must be a string"});
}

TEST_CASE("cli input: an unknown architecture in per_architecture names the file and the key") {
  expect_one_error(estimate_with_efficiency(k_bad + "efficiency-unknown-architecture.json"), 2,
                   {"efficiency-unknown-architecture.json", "/per_architecture/hoper",
                    "unknown architecture 'hoper'", "hopper"});
}

TEST_CASE("cli input: a key repeated in a data file names the file and the key") {
  // nlohmann kept the last of the two silently (0.5, not 0.8)
  expect_one_error(estimate_with_efficiency(k_bad + "efficiency-duplicate-key.json"), 2,
                   {"efficiency-duplicate-key.json",
                    "/per_architecture/hopper/gemm_flops_efficiency: duplicate key"});
  // the catalogue too: a GPU file with its bandwidth twice
  const DataCopy data;
  auto gpu = cli_test::slurp(data.dir / "hardware/gpus/h100-sxm.json");
  const auto at = gpu.find("\"bandwidth_Bps\"");
  REQUIRE(at != std::string::npos);
  gpu.insert(at, "\"bandwidth_Bps\": 1e12, ");
  data.write("hardware/gpus/h100-sxm.json", gpu);
  expect_one_error(data.rooftop({"hw", "show", "h100-sxm"}), 2,
                   {"h100-sxm.json", "/memory/bandwidth_Bps: duplicate key"});
}

TEST_CASE("cli input: an int4 GEMM efficiency, which nothing would use, names file, key and the "
          "accepted types") {
  expect_one_error(estimate_with_efficiency(k_bad + "efficiency-int4-by-dtype.json"), 2,
                   {"efficiency-int4-by-dtype.json",
                    "/per_architecture/hopper/gemm_flops_efficiency_by_dtype/int4 = 0.5",
                    "weight-only", "fp64, fp32, tf32, bf16, fp16, fp8, int8, fp4, mxfp4"});
}

TEST_CASE("cli input: absurd efficiency-table values are refused with their bounds, not printed as "
          "nan or inf") {
  expect_one_error(estimate_with_efficiency(k_bad + "efficiency-tile-denormal.json"), 2,
                   {"efficiency-tile-denormal.json", "/defaults/gemm_tile_m",
                    "whole number in [1, 4096]"});
  expect_one_error(estimate_with_efficiency(k_bad + "efficiency-tile-fractional.json"), 2,
                   {"efficiency-tile-fractional.json", "/defaults/gemm_tile_m = 0.5",
                    "whole number in [1, 4096]"});
  expect_one_error(estimate_with_efficiency(k_bad + "efficiency-m-half-huge.json"), 2,
                   {"efficiency-m-half-huge.json", "/defaults/gemm_m_half", "[0, 1e9]"});
  expect_one_error(estimate_with_efficiency(k_bad + "efficiency-kernel-overhead-huge.json"), 2,
                   {"efficiency-kernel-overhead-huge.json", "/defaults/kernel_overhead_s",
                    "[0, 1] (s)"});
}

TEST_CASE("cli input: calibration files: wrong types, unknown names and contradictions") {
  const auto validate = [](const std::string &file) {
    return rooftop({"validate", "--calibration", k_bad + file});
  };
  expect_one_error(validate("calibration-samples-string.json"), 2,
                   {"calibration-samples-string.json", "/measurements/0/samples_s/0 = \"a\"",
                    "must be a time in [1e-12, 3600] (s)"});
  expect_one_error(validate("calibration-samples-object.json"), 2,
                   {"calibration-samples-object.json", "/measurements/0/samples_s", "an array"});
  expect_one_error(
      validate("calibration-samples-number.json"), 2,
      {"calibration-samples-number.json", "/measurements/0/samples_s = 5", "an array"});
  expect_one_error(validate("calibration-stream-typo.json"), 2,
                   {"calibration-stream-typo.json", "/measurements/1/stream = \"readd\"",
                    "read, write, copy, triad"});
  expect_one_error(validate("calibration-self-check-contradiction.json"), 2,
                   {"calibration-self-check-contradiction.json", "/self_checks/1/passed = true",
                    "max_rel_error 0.5 > tolerance 0.02"});
  expect_one_error(validate("calibration-duplicate-id.json"), 2,
                   {"calibration-duplicate-id.json", "/measurements/2/id = \"gemm_bf16_2x3x4\"",
                    "duplicate of /measurements/0/id"});
  // every case skipped: nothing to compare is an error, not an empty report
  auto all_skipped = nlohmann::json::parse(
      std::ifstream(k_data + "/good/calibration/small.calibration.json"));
  for (auto &m : all_skipped["measurements"]) {
    m["skipped"] = true;
    m["skip_reason"] = "no device";
    for (const char *k : {"median_s", "mean_s", "rel_stdev", "samples_s", "sample_count",
                          "discarded_samples", "implementation"})
      m.erase(k);
  }
  const cli_test::TempDir tmp;
  const std::string f = (tmp.path / "all-skipped.calibration.json").string();
  std::ofstream(f) << all_skipped.dump();
  expect_one_error(rooftop({"validate", "--calibration", f}), 2,
                   {"all-skipped.calibration.json", "/measurements", "nothing to compare",
                    "skipped or failed"});
}

TEST_CASE("cli input: hw list and hw show check NVLink against links.json, as systems do") {
  // 800e9 bidirectional disagrees with NVLink 4's 450e9 one way x 2 = 900e9.
  const DataCopy data;
  const auto gpu = data.dir / "hardware/gpus/h100-sxm.json";
  auto j = nlohmann::json::parse(std::ifstream(gpu));
  j["nvlink"]["bandwidth_bidirectional_Bps"] = 800e9;
  data.write("hardware/gpus/h100-sxm.json", j.dump(2));
  const std::vector<std::string> needles{"h100-sxm.json",
                                         "/nvlink/bandwidth_bidirectional_Bps = 800000000000.0",
                                         "links.json"};
  expect_one_error(data.rooftop({"hw", "list"}), 2, needles);
  expect_one_error(data.rooftop({"hw", "list", "--json"}), 2, needles);
  expect_one_error(data.rooftop({"hw", "show", "h100-sxm"}), 2, needles);
  expect_one_error(data.rooftop({"system", "list"}), 2, needles); // as before
}

TEST_CASE("cli input: --calibration on a file whose schema is not a string") {
  const cli_test::TempDir tmp;
  const auto file = (tmp.path / "schema5.json").string();
  std::ofstream(file) << R"({"schema": 5})";
  expect_one_error(rooftop({"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm",
                            "--calibration", file}),
                   2, {"schema5.json", "/schema = 5", "must be a string"});
}

TEST_CASE("cli input: a bad memory.reported_bytes is one error naming the file and field") {
  // The H100's datasheet capacity is 80e9, so the reported total must lie in [7.2e10, 9.6e10];
  // 8e9 is the GiB figure slipped by a factor of ten.
  const DataCopy data;
  const auto gpu = data.dir / "hardware/gpus/h100-sxm.json";
  const auto original = nlohmann::json::parse(std::ifstream(gpu));
  for (const auto &[value, needle] : std::vector<std::pair<nlohmann::json, std::string>>{
           {8e9, "/memory/reported_bytes = 8000000000.0: must be in [7.2e+10, 9.6e+10] (bytes, "
                 "0.9 to 1.2 x capacity_bytes)"},
           {-1, "/memory/reported_bytes = -1: must be > 0 (bytes)"},
           {"81559MiB", "/memory/reported_bytes = \"81559MiB\": must be a number (bytes)"}}) {
    auto j = original;
    j["memory"]["reported_bytes"] = value;
    data.write("hardware/gpus/h100-sxm.json", j.dump(2));
    for (const auto &args : std::vector<std::vector<std::string>>{
             {"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm"}, {"hw", "list"}})
      expect_one_error(data.rooftop(args), 2, {"h100-sxm.json", needle});
  }
}

TEST_CASE("cli input: a GPU file without reported_bytes falls back to the datasheet, and says so") {
  const DataCopy data;
  const auto gpu = data.dir / "hardware/gpus/h100-sxm.json";
  auto j = nlohmann::json::parse(std::ifstream(gpu));
  j["memory"].erase("reported_bytes");
  j["sources"].erase("/memory/reported_bytes");
  data.write("hardware/gpus/h100-sxm.json", j.dump(2));
  const Run r =
      data.rooftop({"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--json"});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const auto e = nlohmann::json::parse(r.out);
  // The datasheet's 80 GB, and 10% of it reserved: 8e9 B.
  CHECK(e.at("memory").at("capacity_bytes_per_gpu").get<double>() == 80e9);
  CHECK(e.at("memory").at("capacity_source") == "datasheet");
  CHECK(e.at("memory").at("reserved_bytes_per_gpu").get<double>() ==
        doctest::Approx(8e9).epsilon(1e-12));
  const Run text = data.rooftop({"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm"});
  CHECK(text.out.find("of 80.00 GB (datasheet figure: no reported total)") != std::string::npos);
}

TEST_CASE("cli input: an integer option past its type's range is refused, not clamped") {
  // CLI11 would clamp 99999999999999999999 to 2^63 - 1 (and the error would print that).
  for (const char *opt : {"--input-len", "--tp", "--gpus", "--max-batch"}) {
    INFO(opt);
    cli_test::expect_one_error(rooftop({"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm",
                                        opt, "99999999999999999999"}),
                               2, {opt, "out of range", "99999999999999999999"});
  }
  cli_test::expect_one_error(rooftop({"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm",
                                      "--decode-samples", "3000000000"}),
                             2, {"--decode-samples", "out of range"});
  cli_test::expect_one_error(rooftop({"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm",
                                      "--tp", "2.5"}),
                             2, {"--tp", "2.5"});
}
