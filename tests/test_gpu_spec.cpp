// GPU catalogue: every entry loads with sources; bad files fail naming file and pointer.
#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/links.hpp"

#include <doctest/doctest.h>

using namespace rooftop;

namespace {
const std::string bad_dir = ROOFTOP_TEST_DATA_DIR "/bad/";
}

TEST_CASE("the built-in catalogue has the required GPUs, each figure sourced") {
  const auto &c = hw::GpuCatalogue::builtin();
  for (const char *id : {"a100-sxm-80gb", "h100-sxm", "h100-pcie", "h200-sxm", "b200", "b300",
                         "gb200", "rubin", "l40s"}) {
    CAPTURE(id);
    const auto &g = c.get(id);
    CHECK(g.memory_capacity.value() > 0);
    CHECK(g.memory_bandwidth.value() > 0);
    CHECK(g.sources.count("/memory/bandwidth_Bps") == 1);
    CHECK(g.sources.count("/memory/capacity_bytes") == 1);
    for (const auto &[k, v] : g.dense_flops) {
      CAPTURE(k);
      CHECK(g.sources.count("/dense_flops_per_s/" + k) == 1);
    }
  }
}

TEST_CASE("H100 SXM matches its datasheet (dense, not sparse)") {
  const auto &g = hw::GpuCatalogue::builtin().get("h100-sxm");
  CHECK(g.memory_bandwidth.value() == doctest::Approx(3.35e12));
  // Datasheet: 1,979 TFLOPS BF16 *with sparsity* -> 989.5 dense.
  CHECK(g.matmul_peak(DType::bf16)->value() == doctest::Approx(989.5e12).epsilon(1e-3));
  CHECK(g.matmul_peak(DType::fp8)->value() == doctest::Approx(1979e12).epsilon(1e-3));
  CHECK(!g.matmul_peak(DType::fp4).has_value());
  REQUIRE(g.nvlink.has_value());
  CHECK(g.nvlink->one_way().value() == doctest::Approx(450e9)); // 900 GB/s bidirectional / 2
}

TEST_CASE("GPUs without a format have no rate for it") {
  const auto &a100 = hw::GpuCatalogue::builtin().get("a100-sxm-80gb");
  CHECK(!a100.matmul_peak(DType::fp8).has_value());
  CHECK(hw::GpuCatalogue::builtin().get("b200").matmul_peak(DType::fp4).has_value());
}

TEST_CASE("unknown GPU ids list the known ones") {
  CHECK_THROWS_WITH_AS((void)hw::GpuCatalogue::builtin().get("h999"),
                       doctest::Contains("h100-sxm"), InputError);
}

TEST_CASE("bad GPU files fail with the file and JSON pointer") {
  struct Case {
    const char *file;
    const char *expect;
  };
  for (const auto &[file, expect] :
       {Case{"gpu-negative-bandwidth.json", "/memory/bandwidth_Bps = -1"},
        Case{"gpu-unknown-key.json", "/memory/bandwith_Bps: unknown key"},
        Case{"gpu-wrong-schema.json", "/schema"},
        Case{"gpu-no-bf16.json", "/dense_flops_per_s/bf16: missing"},
        Case{"gpu-bad-architecture.json", "/architecture"},
        Case{"gpu-missing-capacity.json", "/memory/capacity_bytes: missing"},
        Case{"gpu-no-links.json", "nvlink or a pcie"},
        Case{"gpu-malformed.json", "malformed JSON"}}) {
    CAPTURE(file);
    CHECK_THROWS_WITH_AS(hw::load_gpu(bad_dir + file),
                         doctest::Contains(doctest::String((std::string(file) + ": ").c_str())), InputError);
    CHECK_THROWS_WITH_AS(hw::load_gpu(bad_dir + file), doctest::Contains(expect), InputError);
  }
}

TEST_CASE("catalogue ids must match file names") {
  const auto c = hw::GpuCatalogue::load(ROOFTOP_TEST_DATA_DIR "/good/gpus");
  CHECK(c.get("test-gpu").memory_bandwidth.value() == 1e12);
}

TEST_CASE("derated efficiencies come from the data file, per architecture") {
  const auto &h100 = hw::GpuCatalogue::builtin().get("h100-sxm");
  const auto e = hw::builtin_efficiency(h100);
  CHECK(e.origin == hw::EfficiencyOrigin::spec);
  CHECK(e.gemm_flops > 0.3);
  CHECK(e.gemm_flops < 1.0);
  CHECK(e.hbm_bandwidth < 1.0);
  CHECK(e.provenance.find("per_architecture/hopper") != std::string::npos);
  const auto ideal = hw::Efficiency::ideal();
  CHECK(ideal.gemm_flops == 1.0);
  CHECK(ideal.kernel_overhead.value() == 0.0);
}

TEST_CASE("scale-up path: NVLink one way, PCIe without NVLink, bridge only for pairs") {
  const auto &c = hw::GpuCatalogue::builtin();
  CHECK(hw::scale_up_path(c.get("h100-sxm"), 8).bandwidth_one_way.value() == doctest::Approx(450e9));
  // L40S: PCIe gen4 x16 = 16 GT/s x 16 lanes x 128/130 / 8 = 31.5 GB/s one way
  CHECK(hw::scale_up_path(c.get("l40s"), 4).bandwidth_one_way.value() ==
        doctest::Approx(31.508e9).epsilon(1e-3));
  CHECK(hw::scale_up_path(c.get("h100-pcie"), 2).name.find("NVLink") == 0);
  CHECK(hw::scale_up_path(c.get("h100-pcie"), 4).name.find("PCIe") == 0);
}
