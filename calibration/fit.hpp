// Fitting interpretable efficiency curves to measurements (Eigen least squares), relative to a
// GPU's spec sheet, with a deterministic hold-out so validation error is honest.
#pragma once

#include "calibration/backend.hpp"
#include "calibration/plan.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"

#include <map>
#include <string>
#include <vector>

namespace rooftop::cal {

/// About one case in four (chosen by a hash of its id, so deterministic and spread over shapes)
/// and every layer case are held out of the fit and used only to validate it; the launch case
/// never is.
bool held_out(const std::vector<Measurement> &all, std::size_t index);

/// A decode case (not MLA-like) timed warm, with no L2 flush between samples (published
/// CUDA-graph replays), whose data fit in `gpu`'s L2: it read them from L2, which a model's
/// other layers evict first. The fit gives such cases a bandwidth of their own and validate
/// reports them apart (`attention_decode_l2`).
bool warm_in_l2(const Case &c, const hw::GpuSpec &gpu);

/// Fitted curves in absolute units and as efficiencies of `spec`.
struct FitResult {
  double kernel_overhead_s = 0;      ///< median back-to-back empty kernel, s
  double hbm_bandwidth_Bps = 0;      ///< streams beyond L2: t = t0 + B / BW
  double stream_fixed_s = 0;         ///< t0 of that fit, s
  struct Gemm {
    double e_max = 0;                ///< compute efficiency of large GEMMs (fraction of peak)
    double m_half = 0;               ///< rows at which it is half: e(M) = e_max M / (M + m_half)
    double tile_m = 0, tile_n = 0;   ///< output tile of the wave quantization (0: none fitted)
    std::size_t cases = 0;           ///< compute-bound cases fitted
    /// Memory-bound GEMMs (FLOP time under a tenth of the bytes' time at the spec peaks):
    /// t = overhead_s + bytes / (HBM x bandwidth); 0 when too few were measured.
    double bandwidth = 0;            ///< fraction of HBM bandwidth
    double overhead_s = 0;           ///< fixed cost of one GEMM, s
    std::size_t memory_cases = 0;
    /// A separate pass converting BF16 activations to this type first, at this fraction of HBM
    /// bandwidth (hw::GemmTerms::quantize); 0: none fitted.
    double quantize = 0;
    /// Whether the terms above come from the joint fit over all of the type's GEMMs (cases is
    /// then their count) rather than from the two fits, memory-bound then compute-bound.
    bool joint = false;
  };
  std::map<std::string, Gemm> gemm;  ///< by input dtype name
  double attention_flops = 0;        ///< prefill attention: fraction of the BF16 peak
  double attention_bandwidth = 0;    ///< decode attention: fraction of HBM bandwidth (maximum)
  double attention_context_half = 0; ///< context at which it is half
  /// The additive attention model (hw::Efficiency::additive_attention), fitted when every
  /// attention case ran a production kernel (not one of rooftop's own: published measurements)
  /// and there are enough decode and prefill cases; 0 otherwise.
  bool additive_attention = false;
  std::string prefill_impl;              ///< what ran the prefill cases (roofline fit only)
  double attention_fixed_s = 0;          ///< per attention operator, s
  double attention_item_s = 0;           ///< per (sequence, KV head), s
  double attention_prefill_bandwidth = 0; ///< prefill: fraction of HBM bandwidth
  /// Decode over a KV cache of another type than BF16 with enough cases: its own terms.
  std::map<std::string, hw::Efficiency::AttentionDecodeTerms> attention_decode_by_kv_dtype;
  std::size_t allreduce_cases = 0;   ///< all_reduce measurements fitted (efficiency.allreduce)
  std::size_t fitted = 0, held = 0;  ///< measurements used / held out
  std::vector<std::string> notes;    ///< what could not be fitted and what was clamped
  hw::Efficiency efficiency;         ///< the table estimate uses (origin measured)
};

/// Fits `measurements` (skipped ones ignored) against `spec`. Values the plan did not measure
/// (NVLink, network, NVLS, collective latency) come from `defaults` and are named in notes.
FitResult fit(const std::vector<Measurement> &measurements, const hw::GpuSpec &spec,
              const hw::Efficiency &defaults);

/// A reference "spec" for a CPU run: its peaks are the best measured GEMM rate and stream
/// bandwidth, so the CPU pipeline (measure, fit, validate) runs end to end. It describes the
/// host, not any GPU, and is marked so in its notes.
hw::GpuSpec host_reference_spec(const std::vector<Measurement> &measurements, const DeviceInfo &d);

/// Least squares of y ~ a x (rows of `a`) minimising the sum of squared relative errors
/// ((a x - y) / y)^2. Throws InternalError on mismatched sizes.
std::vector<double> relative_least_squares(const std::vector<std::vector<double>> &a,
                                           const std::vector<double> &y);

/// Least squares y = a + b x. Returns {a, b}; b = 0 when x does not vary.
std::pair<double, double> fit_line(const std::vector<double> &x, const std::vector<double> &y);

} // namespace rooftop::cal
