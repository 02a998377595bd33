// CLI tests of bad data files: each is refused with one error line naming the file and the
// field, exit 2 (an InputError), never a crash, an internal error, a NaN or a silent default.
#include "cli_runner.hpp"

#include <doctest/doctest.h>

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

/// `rooftop estimate` of a small model on an H100 with the efficiency table `file`.
Run estimate_with_efficiency(const std::string &file) {
  return rooftop({"estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--efficiency", file});
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
