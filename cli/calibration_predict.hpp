// Predicting calibration measurements with rooftop's own roofline (the model the efficiency
// table feeds), and the error statistics `validate --calibration` prints.
#pragma once

#include "calibration/plan.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"

#include <string>
#include <vector>

namespace rooftop::cli {

/// rooftop's predicted time of one case, seconds.
double predict_case(const cal::Case &c, const hw::GpuSpec &gpu, const hw::Efficiency &eff);

/// One compared measurement.
struct CaseError {
  const cal::Measurement *m = nullptr;
  double predicted_s = 0;
  double relative_error = 0; ///< (predicted - measured) / measured
  bool held_out = false;
  /// The error's group: the case kind, except "stream_cached" (a working set under 4 x L2,
  /// which the model streams from HBM), "attention_decode_mla" (compute-heavy, not in the
  /// decode bandwidth fit) and "attention_decode_l2" (timed warm with its KV within L2:
  /// cal::warm_in_l2).
  std::string group;
};

/// Median and p90 |error| per group (GEMM, stream, attention, launch, layer) over the held-out
/// cases, and the five worst held-out cases, as text.
std::string held_out_table(const std::vector<CaseError> &errors);

std::vector<CaseError> compare_measurements(const std::vector<cal::Measurement> &ms,
                                            const hw::GpuSpec &gpu, const hw::Efficiency &eff);

} // namespace rooftop::cli
