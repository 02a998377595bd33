// GPU catalogue: every entry loads with sources; bad files fail naming file and pointer.
#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/links.hpp"
#include "hwmodels/system.hpp"

#include <doctest/doctest.h>

using namespace rooftop;

namespace {
const std::string bad_dir = ROOFTOP_TEST_DATA_DIR "/bad/";

/// The message of the InputError `f` throws ("" when it throws none).
template <class F> std::string input_error(F &&f) {
  try {
    f();
  } catch (const InputError &e) {
    return e.what();
  }
  return "";
}
} // namespace

TEST_CASE("the built-in catalogue has the required GPUs, each figure sourced") {
  const auto &c = hw::GpuCatalogue::builtin();
  for (const char *id : {"a100-sxm-80gb", "h100-sxm", "h100-pcie", "h200-sxm", "b200", "b300",
                         "gb200", "rubin", "l40s"}) {
    CAPTURE(id);
    const auto &g = c.get(id);
    CHECK(g.memory_datasheet.value() > 0);
    CHECK(g.memory_bandwidth.value() > 0);
    CHECK(g.sources.count("/memory/bandwidth_Bps") == 1);
    CHECK(g.sources.count("/memory/capacity_bytes") == 1);
    for (const auto &[k, v] : g.dense_flops.entries()) {
      CAPTURE(k);
      CHECK(g.sources.count("/dense_flops_per_s/" + k) == 1);
    }
  }
}

TEST_CASE("the reported total is loaded and is the capacity used, else the datasheet capacity") {
  const auto &c = hw::GpuCatalogue::builtin();
  // H100 SXM: nvidia-smi reports 81559 MiB = 81559 x 1,048,576 = 85,520,809,984 bytes; the
  // datasheet's "80GB" stays 80e9 and is kept alongside.
  const auto &h100 = c.get("h100-sxm");
  REQUIRE(h100.memory_reported.has_value());
  CHECK(h100.memory_reported->value() == 85520809984.0);
  CHECK(h100.memory_datasheet.value() == 80e9);
  CHECK(h100.memory_capacity().value() == 85520809984.0);
  CHECK(h100.capacity_source() == hw::CapacitySource::reported);
  CHECK(hw::to_string(h100.capacity_source()) == "reported");
  // A100 80GB: 81920 MiB = exactly 80 GiB = 85,899,345,920 bytes.
  CHECK(c.get("a100-sxm-80gb").memory_capacity().value() == 85899345920.0);
  // Rubin has no public nvidia-smi output: the datasheet's 288 GB, labelled as such.
  const auto &rubin = c.get("rubin");
  CHECK(!rubin.memory_reported.has_value());
  CHECK(rubin.memory_capacity().value() == 288e9);
  CHECK(rubin.capacity_source() == hw::CapacitySource::datasheet);
  CHECK(hw::capacity_label(rubin.capacity_source()).find("datasheet") != std::string::npos);
  // Every GPU that has shipped has a sourced reported total within the loader's band.
  for (const auto &[id, g] : c.all()) {
    CAPTURE(id);
    if (id == "rubin") continue;
    REQUIRE(g.memory_reported.has_value());
    CHECK(g.sources.count("/memory/reported_bytes") == 1);
    const double ratio = g.memory_reported->value() / g.memory_datasheet.value();
    CHECK(ratio >= 0.9);
    CHECK(ratio <= 1.2);
  }
  // A file without the key (the synthetic test GPU) falls back to capacity_bytes = 1e11.
  const auto t = hw::load_gpu(ROOFTOP_TEST_DATA_DIR "/good/gpus/test-gpu.json");
  CHECK(!t.memory_reported.has_value());
  CHECK(t.memory_capacity().value() == 1e11);
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
        Case{"gpu-malformed.json", "malformed JSON"},
        // 2^32 + 4 wrapped around to 4 when cast to int
        Case{"gpu-nvlink-generation-wraps.json",
             "/nvlink/generation = 4294967300: must be at most"},
        // > 0, yet every estimate came out infinite
        Case{"gpu-bandwidth-denormal.json",
             "/memory/bandwidth_Bps = 5e-324: must be in [1e9, 1e15] (bytes/s)"},
        Case{"gpu-flops-huge.json", "/dense_flops_per_s/bf16 = 1e+300: must be in [1e9, 1e18]"},
        Case{"gpu-nvlink-bandwidth-tiny.json",
             "/nvlink/bandwidth_bidirectional_Bps = 1e-300: must be in [1e9, 1e15]"},
        // memory.reported_bytes (capacity_bytes = 1e11 in these files): a number, > 0, in
        // [1e6, 1e15] and in [0.9, 1.2] x 1e11 = [9e10, 1.2e11]
        Case{"gpu-reported-negative.json", "/memory/reported_bytes = -1: must be > 0 (bytes)"},
        Case{"gpu-reported-string.json",
             "/memory/reported_bytes = \"85.5GB\": must be a number (bytes)"},
        Case{"gpu-reported-null.json", "/memory/reported_bytes = null: must be a number"},
        Case{"gpu-reported-huge.json",
             "/memory/reported_bytes = 1e+300: must be in [1e6, 1e15] (bytes)"},
        Case{"gpu-reported-below-datasheet.json",
             "/memory/reported_bytes = 85000000000.0: must be in [9e10, 1.2e+11] (bytes, 0.9 to "
             "1.2 x capacity_bytes)"},
        Case{"gpu-reported-above-datasheet.json",
             "/memory/reported_bytes = 130000000000.0: must be in [9e10, 1.2e+11] (bytes, 0.9 to "
             "1.2 x capacity_bytes)"}}) {
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
  // Rubin has no committed table (data/calibration/), nor has its architecture: the derated
  // defaults.
  const auto &rubin = hw::GpuCatalogue::builtin().get("rubin");
  const auto e = hw::builtin_efficiency(rubin);
  CHECK(e.origin == hw::EfficiencyOrigin::spec);
  CHECK(e.gemm_flops > 0.3);
  CHECK(e.gemm_flops < 1.0);
  CHECK(e.hbm_bandwidth < 1.0);
  CHECK(e.provenance.find("#/defaults") != std::string::npos);
  // H100 SXM has one (fitted to published measurements): measured there, transferred to the
  // Hopper GPUs without one of their own (H100 PCIe), with the additive attention model on.
  const auto h100 = hw::builtin_efficiency(hw::GpuCatalogue::builtin().get("h100-sxm"));
  CHECK(h100.origin == hw::EfficiencyOrigin::measured);
  CHECK(h100.provenance.find("calibration/h100-sxm/efficiency.json") != std::string::npos);
  // ... and says whose measurements those are: "measured" is not rooftop's own run here.
  CHECK(h100.provenance.find("fitted to published measurements (github.com/ai-dynamo/aiconfigurator") !=
        std::string::npos);
  CHECK(h100.provenance.find("not a run of rooftop's own") != std::string::npos);
  CHECK(h100.additive_attention());
  const auto pcie = hw::builtin_efficiency(hw::GpuCatalogue::builtin().get("h100-pcie"));
  CHECK(pcie.origin == hw::EfficiencyOrigin::transferred);
  CHECK(pcie.attention_fixed.value() == h100.attention_fixed.value());
  CHECK(pcie.provenance.find("transferred): fitted to published measurements") != std::string::npos);
  // H200 has its own (a GPU's own table wins over its architecture's): measured, another fit.
  const auto h200 = hw::builtin_efficiency(hw::GpuCatalogue::builtin().get("h200-sxm"));
  CHECK(h200.origin == hw::EfficiencyOrigin::measured);
  CHECK(h200.provenance.find("calibration/h200-sxm/efficiency.json") != std::string::npos);
  CHECK(h200.attention_fixed.value() != h100.attention_fixed.value());
  const auto ideal = hw::Efficiency::ideal();
  CHECK(ideal.gemm_flops == 1.0);
  CHECK(ideal.kernel_overhead.value() == 0.0);
}

TEST_CASE("each serving engine has its own built-in table, transferred and defaulted the same way") {
  CHECK(hw::engine_table_name("vllm") == "efficiency.json");
  CHECK(hw::engine_table_name("trtllm") == "efficiency-trtllm.json");
  CHECK_THROWS_AS((void)hw::engine_table_name("sglang"), InputError);
  CHECK_THROWS_AS((void)hw::engine_table_name(""), InputError);
  const auto &cat = hw::GpuCatalogue::builtin();
  const auto vllm = hw::builtin_efficiency(cat.get("h100-sxm"));
  const auto trt = hw::builtin_efficiency(cat.get("h100-sxm"), "trtllm");
  CHECK(vllm.engine == "vllm");
  CHECK(trt.engine == "trtllm");
  CHECK(trt.origin == hw::EfficiencyOrigin::measured);
  CHECK(trt.provenance.find("calibration/h100-sxm/efficiency-trtllm.json") != std::string::npos);
  // Two fits to two engines' kernels: not the same table.
  CHECK(trt.attention_fixed.value() != vllm.attention_fixed.value());
  CHECK(trt.allreduce.implementation.find("TensorRT-LLM") != std::string::npos);
  CHECK(vllm.allreduce.implementation.find("vLLM") != std::string::npos);
  // H100 PCIe takes H100 SXM's TensorRT-LLM table, not the vLLM one; H200 its own.
  const auto pcie = hw::builtin_efficiency(cat.get("h100-pcie"), "trtllm");
  CHECK(pcie.origin == hw::EfficiencyOrigin::transferred);
  CHECK(pcie.attention_fixed.value() == trt.attention_fixed.value());
  CHECK(pcie.provenance.find("efficiency-trtllm.json (measured on h100-sxm, transferred)") !=
        std::string::npos);
  const auto h200 = hw::builtin_efficiency(cat.get("h200-sxm"), "trtllm");
  CHECK(h200.origin == hw::EfficiencyOrigin::measured);
  CHECK(h200.provenance.find("calibration/h200-sxm/efficiency-trtllm.json") != std::string::npos);
  // Rubin has no table of either engine or architecture: the defaults, which are no engine's.
  const auto rubin = hw::builtin_efficiency(cat.get("rubin"), "trtllm");
  CHECK(rubin.origin == hw::EfficiencyOrigin::spec);
  CHECK(rubin.engine.empty());
  // ... which engine_efficiency refuses for an engine asked for by name, but not for vllm.
  CHECK(input_error([&] { (void)hw::engine_efficiency(cat.get("rubin"), "trtllm"); })
            .find("no table of that engine's kernels for rubin") != std::string::npos);
  CHECK(hw::engine_efficiency(cat.get("rubin"), "vllm").origin == hw::EfficiencyOrigin::spec);
  CHECK(hw::engine_efficiency(cat.get("h200-sxm"), "trtllm").engine == "trtllm");
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

TEST_CASE("every shipped GPU and system agrees with links.json on NVLink bandwidth") {
  const auto &links = hw::builtin_links();
  for (const auto &[id, g] : hw::GpuCatalogue::builtin().all()) {
    CAPTURE(id);
    CHECK_NOTHROW(hw::check_nvlink(g, links));
  }
  // Loading the systems checks each one's scale-up link and switch against its GPU
  CHECK(hw::SystemCatalogue::builtin().all().size() >= 10);
}

TEST_CASE("an NVLink figure that disagrees with links.json is refused, stating the convention") {
  const auto &links = hw::builtin_links();
  // H100 SXM with its one-way 450 GB/s stored as if bidirectional: nvlink4 implies
  // 2 x 450e9 x 18 / 18 = 900e9
  auto half = hw::GpuCatalogue::builtin().get("h100-sxm");
  half.nvlink->bandwidth_bidirectional = BytesPerSecond(450e9);
  const std::string e = input_error([&] { hw::check_nvlink(half, links); });
  CHECK(e.find("h100-sxm.json: /nvlink/bandwidth_bidirectional_Bps = 450000000000.0") !=
        std::string::npos);
  CHECK(e.find("links.json: /links/") != std::string::npos);
  CHECK(e.find("bandwidth_one_way_Bps = 450000000000.0 (nvlink4)") != std::string::npos);
  CHECK(e.find("bidirectional (both directions summed, per GPU)") != std::string::npos);
  CHECK(e.find("one way per GPU") != std::string::npos);
  CHECK(e.find("= 900000000000.0 bytes/s bidirectional") != std::string::npos);
  // The H100 PCIe bridge uses 12 of NVLink 4's 18 links: 2 x 450e9 x 12 / 18 = 600e9 agrees;
  // counted as 18 links it would have to be 900e9
  auto pcie = hw::GpuCatalogue::builtin().get("h100-pcie");
  CHECK_NOTHROW(hw::check_nvlink(pcie, links));
  pcie.nvlink->links = 18;
  CHECK(input_error([&] { hw::check_nvlink(pcie, links); }).find("= 900000000000.0 bytes/s") !=
        std::string::npos);
  // A generation links.json does not have
  auto future = hw::GpuCatalogue::builtin().get("h100-sxm");
  future.nvlink->generation = 9;
  CHECK(input_error([&] { hw::check_nvlink(future, links); }).find("/nvlink/generation = 9") !=
        std::string::npos);
}

TEST_CASE("a system whose scale-up link disagrees with its GPU is refused") {
  const std::string e = input_error([] {
    hw::load_system(bad_dir + "system-nvlink-mismatch.json", hw::builtin_links(),
                    hw::GpuCatalogue::builtin());
  });
  CHECK(e.find("system-nvlink-mismatch.json: /scale_up/link = \"nvlink3\"") != std::string::npos);
  CHECK(e.find("/nvlink/generation = 4: disagrees with") != std::string::npos);
}

TEST_CASE("an NVLink link count is refused on other links") {
  CHECK_THROWS_WITH_AS(hw::load_links(bad_dir + "links-links-on-pcie.json"),
                       doctest::Contains("/links/0/links = 2: only for an NVLink link"),
                       InputError);
}

TEST_CASE("a link bandwidth outside [1e6, 1e15] bytes/s is refused") {
  CHECK_THROWS_WITH_AS(hw::load_links(bad_dir + "links-bandwidth-denormal.json"),
                       doctest::Contains("/links/0/bandwidth_one_way_Bps = 5e-324: must be in "
                                         "[1e6, 1e15] (bytes/s, one way)"),
                       InputError);
}

TEST_CASE("peaks edited after loading are the peaks used: there is no index to go stale") {
  auto a100 = hw::GpuCatalogue::builtin().get("a100-sxm-80gb"); // a copy
  REQUIRE_FALSE(a100.matmul_peak(DType::fp8).has_value());
  // No re-indexing call: the lookups read the rates as edited
  a100.dense_flops["fp8"] = FlopsPerSecond(1e15);
  a100.dense_flops["bf16"] = FlopsPerSecond(2e15);
  CHECK(a100.matmul_peak(DType::fp8)->value() == 1e15);
  CHECK(a100.matmul_peak(DType::bf16)->value() == 2e15);
  CHECK(a100.matmul_peak(DType::fp16)->value() == 312e12); // its own fp16 rate
  // Without an FP32 rate the CUDA-core peak falls back to bf16, as edited
  a100.dense_flops["fp32"] = FlopsPerSecond(0);
  CHECK(a100.vector_peak().value() == 2e15);
  CHECK_FALSE(a100.dense_flops.get("fp32").has_value());
  // A reference kept across lookups writes where they read
  FlopsPerSecond &tf32 = a100.dense_flops["tf32"];
  CHECK(a100.matmul_peak(DType::tf32)->value() == 156e12);
  tf32 = FlopsPerSecond(5e14);
  CHECK(a100.matmul_peak(DType::tf32)->value() == 5e14);
  // The catalogue's entry is untouched, and names outside the formats are a bug
  CHECK(hw::GpuCatalogue::builtin().get("a100-sxm-80gb").matmul_peak(DType::bf16)->value() ==
        312e12);
  CHECK_THROWS_AS(a100.dense_flops["fp7"], InternalError);
  // Rates are listed in name order, as the JSON and the reports print them
  std::string names;
  for (const auto &[k, v] : a100.dense_flops.entries()) names += k + " ";
  CHECK(names == "bf16 fp16 fp64 fp64_tensor fp8 int8 tf32 ");
}
