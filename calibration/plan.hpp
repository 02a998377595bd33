// What a calibration run measures (cases) and what it records (measurements), in SI units.
#pragma once

#include "core/dtype.hpp"

#include <optional>
#include <string>
#include <vector>

namespace rooftop::cal {

enum class CaseKind { gemm, stream, attention_decode, attention_prefill, launch, layer, all_reduce };
std::string to_string(CaseKind k);
CaseKind case_kind_from_string(const std::string &s);

enum class StreamKind { read, write, copy, triad };
std::string to_string(StreamKind k);
StreamKind stream_kind_from_string(const std::string &s);

/// One benchmark case. Fields that do not apply to its kind are 0.
struct Case {
  std::string id;          ///< unique within a plan, e.g. "gemm_bf16_1x4096x4096"
  CaseKind kind = CaseKind::gemm;
  DType dtype = DType::bf16;
  // gemm: C[m x n] = A[m x k] B[k x n]
  long long m = 0, n = 0, k = 0;
  // stream: arrays of `bytes` each; all_reduce: a buffer of `bytes`
  StreamKind stream = StreamKind::read;
  double bytes = 0;
  // all_reduce (published measurements only: one GPU cannot run it): `ranks` GPUs of one
  // scale-up domain of catalogue system `system`
  long long ranks = 0;
  std::string system;
  // attention and layer
  long long batch = 0, q_heads = 0, kv_heads = 0, head_dim = 0, context = 0;
  long long latent_dim = 0; ///< MLA-like: one shared latent of this width instead of per-head K/V
  std::string model;        ///< layer: preset id of the model whose layer is run
                            ///< launch: hidden > 0 times a one-row RMSNorm of that width
  long long hidden = 0, intermediate = 0; ///< layer: filled from the model by declare_work
                                          ///< (with q_heads, kv_heads, head_dim)
  bool cold = false;        ///< flush L2 between samples
  // Declared work, as rooftop counts it:
  double flops = 0;         ///< FLOP per run
  double bytes_moved = 0;   ///< bytes of HBM traffic per run
};

/// When to stop sampling a case (nvbench's criterion): at least `min_samples`, then until the
/// relative standard error of the mean is below `target_rel_stderr`, at most `max_samples` or
/// `max_seconds` of samples; `max_seconds` also stops a case below `min_samples` (after one
/// sample) and bounds its warm-up runs (after one).
struct StopRule {
  int warmup = 3;
  int min_samples = 5;
  int max_samples = 200;
  double target_rel_stderr = 0.005;
  double max_seconds = 0.5;
};

/// One case's outcome.
struct Measurement {
  Case c;
  std::vector<double> samples_s; ///< kept samples, seconds
  int discarded = 0;             ///< samples dropped by the outlier (throttle) filter
  double median_s = 0;
  double mean_s = 0;
  std::optional<double> rel_stdev; ///< stdev / mean of the kept samples (none: not published)
  bool skipped = false;
  bool failed = false;           ///< skipped because the backend threw, or because its kernel
                                 ///< failed its self-check (skip_reason says why)
  std::string skip_reason;
  std::string implementation; ///< what ran, e.g. "cuBLASLt 13.0", "rooftop decode_split, 4 splits"
};

/// A list of cases, built for a device.
struct Plan {
  std::vector<Case> cases;
};

/// Declared FLOPs and bytes of a case, as rooftop's lowering counts them (GEMM: 2mnk FLOP,
/// A, B read and C written; streams: arrays read and written; attention: Q, K/V, O).
void declare_work(Case &c);

/// The default plan. `quick` keeps it to a few seconds (CPU backend, tests); otherwise it spans
/// decode-like skinny GEMMs (m = 1..) to prefill-like large ones in BF16 and FP8 (when
/// `has_fp8`), streams from below `l2_bytes` to `max_stream_bytes`, decode attention over
/// growing contexts for MHA, GQA and MLA-like layouts, causal prefill attention, the launch
/// cost, and Llama-3.1-8B decoder layers at several batch sizes and contexts.
Plan default_plan(bool quick, bool has_fp8, double l2_bytes, double max_stream_bytes);

/// The smallest stream array of default_plan, bytes: 256 kB with `quick`, else the larger of
/// 1 MB and an eighth of `l2_bytes` (in L2). Streams grow x4 from it to max_stream_bytes.
double first_stream_bytes(bool quick, double l2_bytes);

} // namespace rooftop::cal
