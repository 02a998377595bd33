// Loading NCCL's tuner constants (rooftop.nccl_tuning/1).
#include "core/errors.hpp"
#include "hwmodels/nccl_tuning.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace rooftop;
using hw::NcclAlgorithm;
using hw::NcclFabric;
using hw::NcclProtocol;

namespace {
const std::string k_bad = std::string(ROOFTOP_TEST_DATA_DIR) + "/bad/";
std::size_t ix(auto e) { return static_cast<std::size_t>(e); }
} // namespace

TEST_CASE("the built-in NCCL tuner table holds tuning.cc's values in SI units") {
  const auto &t = hw::builtin_nccl_tuning();
  CHECK(t.version == "2.30.7-1");
  CHECK(t.commit == "73cf112295c33aee2b895f329f592f2a9b4b0f97");
  // baseLatencies Ring {6.6, 14.0, 8.4} us; hwLatencies NVLINK Ring {0.6, 1.9, 3.4}, NET Tree LL 5
  CHECK(t.base_latency[ix(NcclAlgorithm::ring)][ix(NcclProtocol::ll)].value() == 6.6e-6);
  CHECK(t.base_latency[ix(NcclAlgorithm::ring)][ix(NcclProtocol::simple)].value() == 8.4e-6);
  CHECK(t.hop_latency[ix(NcclFabric::nvlink)][ix(NcclAlgorithm::ring)][ix(NcclProtocol::ll128)]
            .value() == 1.9e-6);
  CHECK(t.hop_latency[ix(NcclFabric::net)][ix(NcclAlgorithm::tree)][ix(NcclProtocol::ll)].value() ==
        5e-6);
  // llMaxBws Hopper N1 141 GB/s; perChMaxRingLL128Bws Blackwell 40 GB/s
  CHECK(t.ll_max_one_node[ix(hw::NcclGeneration::hopper)].value() == 141e9);
  CHECK(t.per_channel_ring_ll128[ix(hw::NcclGeneration::blackwell)][0].value() == 40e9);
  CHECK(t.tree_correction[ix(NcclProtocol::simple)].size() == 24);
  CHECK(hw::to_string(NcclProtocol::ll128) == "LL128");
  CHECK(hw::nccl_generation(hw::nccl_compute_capability(hw::Architecture::ada)) ==
        hw::NcclGeneration::ampere);
  CHECK(hw::nccl_fabric(hw::LinkSpec::make("x", "pcie", BytesPerSecond(1e9), Seconds(0))) ==
        NcclFabric::pci);
}

TEST_CASE("a bad NCCL tuner table names the file and the JSON pointer") {
  CHECK_THROWS_WITH_AS(hw::load_nccl_tuning(k_bad + "nccl-tuning-unknown-key.json"),
                       doctest::Contains("/channel_search/max_channels"), InputError);
  CHECK_THROWS_WITH_AS(hw::load_nccl_tuning(k_bad + "nccl-tuning-negative-latency.json"),
                       doctest::Contains("/hop_latency_s/net/ring/LL"), InputError);
  CHECK_THROWS_WITH_AS(hw::load_nccl_tuning(k_bad + "nccl-tuning-short-correction.json"),
                       doctest::Contains("/tree_correction/Simple"), InputError);
  CHECK_THROWS_WITH_AS(hw::load_nccl_tuning(k_bad + "nccl-tuning-speeds-rising.json"),
                       doctest::Contains("/channel_search/speeds_intra_Bps/sm90"), InputError);
}
