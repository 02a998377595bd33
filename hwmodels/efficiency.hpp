// Efficiency: the fractions of spec-sheet peaks the model assumes kernels achieve, and where they
// come from (ideal, spec-derated defaults, or measured calibration).
#pragma once

#include "core/dtype.hpp"
#include "core/units.hpp"
#include "hwmodels/allreduce_curve.hpp"
#include "hwmodels/gpu_spec.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rooftop::hw {

/// One GEMM input type's terms, resolved from an efficiency table (its per-dtype entries where
/// it has them, else the table's own), so that a caller costing many GEMMs looks them up once.
struct GemmTerms {
  double e_max = 1;     ///< compute efficiency of large GEMMs, fraction of peak
  double m_half = 0;    ///< rows at which it is half (0: no small-M curve)
  double tile_m = 0;    ///< wave-quantization tile, rows (0: none)
  double tile_n = 0;    ///< ... columns
  double bandwidth = 1; ///< fraction of HBM bandwidth
  Seconds overhead;     ///< fixed cost of one GEMM, s
  /// Fraction of HBM bandwidth of a separate pass that converts the GEMM's BF16 activations to
  /// its input type before it runs (vLLM's static-scale FP8 linear layers); 0: none.
  double quantize = 0;
  /// e(M) = e_max M / (M + m_half); e_max without a curve or rows.
  [[nodiscard]] double efficiency(double rows) const {
    return m_half > 0 && rows > 0 ? e_max * rows / (rows + m_half) : e_max;
  }
  /// The parts of a GEMM operator's time under these terms, the one formula sim::cost_op and
  /// the calibration fit both use: compute at efficiency(rows) x `wave` of `peak`, `bytes` at
  /// `bandwidth` of `hbm`, the conversion pass over `elements` activations (M x K; each read as
  /// BF16, 2 bytes, and written as `dtype`; 0 s without a pass) and `kernels` fixed costs.
  struct Times {
    Seconds compute, memory, quantize, overhead;
    /// overhead + max(compute, memory) + quantize: the pass does not overlap the GEMM.
    [[nodiscard]] Seconds total() const { return overhead + max(compute, memory) + quantize; }
  };
  [[nodiscard]] Times times(Flops flops, Bytes bytes, double rows, double wave, double elements,
                            DType dtype, FlopsPerSecond peak, BytesPerSecond hbm,
                            int kernels = 1) const;
};

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
  /// Optional calibrated curves (0 = off):
  double gemm_m_half = 0;         ///< GEMM rows at which compute efficiency is half its maximum:
                                  ///< e(M) = e_max M / (M + m_half)
  std::map<std::string, double> gemm_flops_by_dtype; ///< per input dtype, overrides gemm_flops
  /// Per input dtype, the small-M curve and the wave tile (override gemm_m_half and the tile):
  /// an FP8 or FP4 kernel family has its own.
  struct GemmCurve {
    double m_half = 0, tile_m = 0, tile_n = 0;
  };
  std::map<std::string, GemmCurve> gemm_curve_by_dtype;
  /// Calibrated memory-bound GEMMs (small M), per input dtype: t = overhead + bytes / (HBM x
  /// bandwidth). Absent: hbm_bandwidth and kernels x kernel_overhead. An FP8 GEMM that quantizes
  /// its activations on the fly pays for that kernel here.
  std::map<std::string, double> gemm_bandwidth_by_dtype; ///< fraction of HBM bandwidth
  std::map<std::string, double> gemm_overhead_by_dtype;  ///< fixed cost of one GEMM, s
  /// Per input dtype narrower than BF16: GemmTerms::quantize (absent: no conversion pass).
  std::map<std::string, double> gemm_quantize_by_dtype;
  double gemm_tile_m = 0;         ///< GEMM output tile (rows x columns) for wave quantization:
  double gemm_tile_n = 0;         ///< tiles = ceil(M/tm) ceil(N/tn) over waves of one tile per SM
  double attention_bandwidth = 0; ///< decode attention's fraction of HBM bandwidth (0: as streams)
  double attention_context_half = 0; ///< context at which that fraction is half its maximum
  /// Calibrated attention (any of the three > 0; docs/model.md, "Attention"): an attention
  /// operator costs attention_fixed + attention_item x (sequence, KV head) pairs + its compute
  /// time + its memory time, one after the other, instead of kernels x kernel_overhead + the
  /// larger of the two. Production kernels (FlashAttention-3 in vLLM) fit this: a fixed cost
  /// (the KV-cache write and the attention launch), a cost per work item, and little overlap at
  /// the sizes a step has.
  Seconds attention_fixed;        ///< per attention operator, s
  Seconds attention_item;         ///< per (sequence, KV head) pair on the GPU, s
  double attention_prefill_bandwidth = 0; ///< prefill's fraction of HBM bandwidth (0: as decode)
  /// Calibrated decode attention over a KV cache of another type (an FP8 cache runs other
  /// kernels, with their own launch, per-item and memory costs), keyed by the cache's dtype
  /// name: its fixed cost, per-item cost and fraction of HBM bandwidth replace the three above
  /// for a decode step over such a cache. Prefill keeps the ones above.
  struct AttentionDecodeTerms {
    Seconds fixed;
    Seconds item;
    double bandwidth = 0;
  };
  std::map<std::string, AttentionDecodeTerms> attention_decode_by_kv_dtype;
  Seconds kernel_overhead;        ///< fixed cost per kernel, s
  Seconds collective_latency;     ///< fixed cost per collective call, s
  /// A serving engine's measured tensor-parallel all-reduce (empty: NCCL's model for every
  /// collective). It replaces NCCL's model for an all-reduce of a measured group size inside
  /// one scale-up domain built of the same link (docs/model.md, "Measured all-reduce").
  AllReduceCurves allreduce;
  EfficiencyOrigin origin = EfficiencyOrigin::ideal;
  std::string provenance;         ///< file and entry the values came from
  /// The serving engine whose kernels a built-in table was fitted to (known_engines()); empty
  /// for the derated defaults, --ideal, and a table given by file.
  std::string engine;
  std::map<std::string, std::string> sources; ///< field -> public source of its value

  /// Spec-sheet peaks, efficiency 1, no fixed costs (`--ideal`).
  static Efficiency ideal();
  /// The GEMM terms of input type `dtype` (the four look-ups below at once).
  [[nodiscard]] GemmTerms gemm_terms(DType dtype) const;
  /// GEMM compute efficiency for `rows` rows of input type `dtype`.
  [[nodiscard]] double gemm_efficiency(DType dtype, double rows) const;
  /// A GEMM's fraction of HBM bandwidth for input type `dtype`.
  [[nodiscard]] double gemm_bandwidth(DType dtype) const;
  /// A GEMM operator's fixed cost: the calibrated per-GEMM cost for `dtype` when there is one
  /// (times `kernels`, the GEMMs in the operator), else kernels x kernel_overhead.
  [[nodiscard]] Seconds gemm_overhead(DType dtype, int kernels) const;
  /// Wave quantization of `groups` M x N outputs in one launch (a grouped GEMM: MoE experts) on
  /// `sms` SMs: tiles / (waves x sms), 1 without a calibrated tile, an SM count or N.
  [[nodiscard]] double gemm_wave_efficiency(double rows, double cols, int sms,
                                            double groups = 1) const;
  /// The same for GEMMs of input type `dtype` (its own tile when the table has one).
  [[nodiscard]] double gemm_wave_efficiency(DType dtype, double rows, double cols, int sms,
                                            double groups = 1) const;
  /// Whether attention is costed with the calibrated additive model above.
  [[nodiscard]] bool additive_attention() const {
    return attention_fixed.value() > 0 || attention_item.value() > 0 ||
           attention_prefill_bandwidth > 0;
  }
  /// Decode attention's bandwidth efficiency at `context` keys.
  [[nodiscard]] double attention_bandwidth_efficiency(double context) const;
  /// The additive terms of a decode step over a KV cache of `kv_dtype` (its entry in
  /// attention_decode_by_kv_dtype, else the table's own); with `decode` false (prefill) the
  /// table's own, prefill's bandwidth where it has one.
  [[nodiscard]] AttentionDecodeTerms attention_terms(DType kv_dtype, bool decode,
                                                     double context) const;
};

/// attention_decode_by_kv_dtype as it is written in a table (rooftop.efficiency/1) and in an
/// estimate's JSON: type -> {attention_fixed_s, attention_item_s, attention_bandwidth_efficiency}.
nlohmann::ordered_json attention_decode_by_kv_dtype_json(const Efficiency &e);

/// Fraction of the SMs' tile slots a GEMM's M x N output fills: ceil(M/tm) ceil(N/tn) tiles run
/// in waves of `sms`, so the last wave may be partly idle. A grouped GEMM of `groups` such
/// problems (the expected count of MoE experts with tokens, not necessarily whole) has `groups`
/// times the tiles in one launch. 1 when any argument is not positive.
double gemm_wave_fraction(double rows, double cols, double tile_m, double tile_n, int sms,
                          double groups = 1);

/// The efficiencies of a rooftop.efficiency/1 file for `gpu`: the derated defaults with the
/// GPU architecture's overrides, or a calibrated table (with "origin": "measured" and the "gpu"
/// it was measured on): `measured` on that GPU, `transferred` to another of the same
/// architecture; another architecture is an InputError. Throws InputError naming file and field.
Efficiency load_default_efficiency(const std::filesystem::path &file, const GpuSpec &gpu);
/// The serving engines whose kernels a built-in table can be fitted to: "vllm" (the default)
/// and "trtllm" (TensorRT-LLM).
const std::vector<std::string> &known_engines();
/// The file name of `engine`'s built-in table in data/calibration/<gpu>/: efficiency.json for
/// vllm, efficiency-<engine>.json for another. InputError for an engine not in known_engines().
std::string engine_table_name(const std::string &engine);
/// The built-in choice for `gpu` and the serving engine `engine` (known_engines()):
/// data/calibration/<gpu>/<engine_table_name> when committed (measured), else one of a GPU of
/// the same architecture (transferred), else the derated defaults of
/// data/hardware/efficiency.json (spec), which belong to no engine.
Efficiency builtin_efficiency(const GpuSpec &gpu, const std::string &engine = "vllm");
/// builtin_efficiency for an engine asked for by name: the derated defaults stand in only for
/// vllm (the default engine); for another engine a GPU without a table of it, its own or its
/// architecture's, is an InputError naming the GPU and the file looked for.
Efficiency engine_efficiency(const GpuSpec &gpu, const std::string &engine);

} // namespace rooftop::hw
