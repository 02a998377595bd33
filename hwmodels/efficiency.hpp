// Efficiency: the fractions of spec-sheet peaks the model assumes kernels achieve, and where they
// come from (ideal, spec-derated defaults, or measured calibration).
#pragma once

#include "core/units.hpp"
#include "hwmodels/gpu_spec.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace rooftop::hw {

/// Where an efficiency value came from.
enum class EfficiencyOrigin { ideal, spec, measured, transferred };
std::string to_string(EfficiencyOrigin o);

/// Fractions in [0, 1] of spec peaks, and fixed costs in seconds.
struct Efficiency {
  double gemm_flops = 1.0;        ///< fraction of dense matmul peak reached by GEMMs
  double attention_flops = 1.0;   ///< fraction of dense matmul peak reached by fused attention
  double hbm_bandwidth = 1.0;     ///< fraction of HBM bandwidth reached by streaming kernels
  double link_bandwidth = 1.0;    ///< fraction of NVLink/PCIe bandwidth collectives reach (bus bw)
  double network_bandwidth = 1.0; ///< fraction of NIC bandwidth collectives reach across nodes
  double nvls_bandwidth = 1.0;    ///< algbw of an in-switch (NVLS) all-reduce / one-way NVLink
  Seconds kernel_overhead;        ///< fixed cost per kernel, s
  Seconds collective_latency;     ///< fixed cost per collective call, s
  EfficiencyOrigin origin = EfficiencyOrigin::ideal;
  std::string provenance;         ///< file and entry the values came from
  std::map<std::string, std::string> sources; ///< field -> public source of its value

  /// Spec-sheet peaks, efficiency 1, no fixed costs (`--ideal`).
  static Efficiency ideal();
};

/// The derated defaults of a rooftop.efficiency/1 file for the GPU's architecture
/// (per-architecture overrides applied over `defaults`). Throws InputError naming file and field.
Efficiency load_default_efficiency(const std::filesystem::path &file, const GpuSpec &gpu);
/// load_default_efficiency(data_dir()/hardware/efficiency.json, gpu).
Efficiency builtin_efficiency(const GpuSpec &gpu);

} // namespace rooftop::hw
