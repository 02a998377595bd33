// The calibration backend interface: plain C++ (no CUDA headers), so host code and tests build
// everywhere. A backend describes its device and times one benchmark case.
#pragma once

#include "calibration/plan.hpp"

#include <memory>
#include <string>
#include <vector>

namespace rooftop::cal {

/// What a backend runs on (nvbench's device_info, injectable for tests).
struct DeviceInfo {
  std::string backend;          ///< "cuda" or "cpu"
  std::string name;             ///< e.g. "NVIDIA H100 80GB HBM3"
  int sm_version = 0;           ///< e.g. 90 (0 on CPU)
  int sm_count = 0;             ///< SMs (CPU: hardware threads)
  double clock_hz = 0;          ///< max SM (or CPU) clock, Hz
  double memory_clock_hz = 0;   ///< memory clock, Hz (0 when unknown)
  double memory_bytes = 0;      ///< global memory, bytes
  double l2_bytes = 0;          ///< L2 (CPU: last-level cache), bytes
  std::string driver_version;   ///< e.g. "580.159.04, CUDA driver API 13.0", empty on CPU
  double power_limit_w = 0;     ///< board power limit, W (0 when unknown)
  std::string cuda_version;     ///< runtime version, e.g. "13.0"
};

/// A backend's kernel checked against a host reference on a small problem, before timing.
struct SelfCheck {
  std::string name;           ///< e.g. "gemm_bf16_16x64x128"
  std::string implementation; ///< what ran
  double max_rel_error = 0;   ///< max |result - reference| / max |reference|
  double tolerance = 0;       ///< the check passes when max_rel_error <= tolerance
  std::string skip_reason;    ///< not run on this device (e.g. too little shared memory)
  [[nodiscard]] bool passed() const { return !skip_reason.empty() || max_rel_error <= tolerance; }
};

/// Times benchmark cases on one device.
class Backend {
public:
  virtual ~Backend() = default;
  [[nodiscard]] virtual DeviceInfo device() const = 0;
  /// Runs one case: warm-up, then samples until the stopping rule holds. A case the device
  /// cannot run (e.g. FP8 on Ampere) comes back with `skipped` set and a reason.
  virtual Measurement run(const Case &c, const StopRule &rule) = 0;
  /// Runs every kernel the backend times on a small problem and compares it with a reference
  /// computed on the host (a timing of a wrong kernel is worthless).
  virtual std::vector<SelfCheck> self_check() = 0;
};

/// The CUDA backend on device `index`. Throws NotCompiled when built without CUDA and
/// InputError when no such device exists.
std::unique_ptr<Backend> make_cuda_backend(int index = 0);
/// True when this build has the CUDA backend.
bool cuda_compiled();
/// The host backend: Eigen GEMMs, STREAM-style loops, a reference attention, on the CPU.
std::unique_ptr<Backend> make_cpu_backend(int threads = 0);

} // namespace rooftop::cal
