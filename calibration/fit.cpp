// Efficiency fitting. Each curve is linear in its parameters after a change of variable:
//   streams      t = t0 + B / BW                          (x = B)
//   GEMMs        1/e = 1/e_max + (m_half/e_max) (1/M)     (e(M) = e_max M / (M + m_half)),
//                after dividing out the wave quantization of the best-fitting output tile
//   attention    1/e = 1/e_max + (c_half/e_max) (1/ctx)
// and is solved by least squares (Eigen, column-pivoting QR).
#include "calibration/fit.hpp"

#include "calibration/fit_allreduce.hpp"
#include "calibration/minimize.hpp"
#include "calibration/stats.hpp"
#include "core/errors.hpp"

#include <Eigen/Dense>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <tuple>

namespace rooftop::cal {
namespace {

bool usable(const Measurement &m) { return !m.skipped && m.median_s > 0; }

std::string fmt_terms(const std::string &what, const std::vector<double> &c) {
  std::string s = what + " (";
  for (std::size_t i = 0; i < c.size(); ++i) s += (i ? ", " : "") + std::to_string(c[i]);
  return s + ")";
}

/// Clamps a fitted fraction into (0, 1], noting when it had to.
double fraction(double v, const std::string &what, std::vector<std::string> &notes) {
  if (!(v > 0)) {
    notes.push_back(what + ": fit gave " + std::to_string(v) + ", not used");
    return 0;
  }
  if (v > 1) {
    notes.push_back(what + ": fit gave " + std::to_string(v) +
                    " (> 1: the spec-sheet figure is lower than measured), clamped to 1");
    return 1;
  }
  return v;
}

/// e_max and half-point of 1/e = a + b / x over (x, e) points; a constant when x does not vary.
std::pair<double, double> saturating(const std::vector<double> &x, const std::vector<double> &e) {
  std::vector<double> inv_x, inv_e;
  for (std::size_t i = 0; i < x.size(); ++i) {
    inv_x.push_back(1 / x[i]);
    inv_e.push_back(1 / e[i]);
  }
  const auto [a, b] = fit_line(inv_x, inv_e);
  if (!(a > 0)) return {median(e), 0};
  return {1 / a, std::max(0.0, b / a)};
}

/// The GEMM curve e(M, N) = e_max M / (M + m_half) w(M, N), w the wave quantization of tile
/// tm x tn (or 1), chosen among common CUTLASS/cuBLAS output tiles by least squared relative
/// error; a tile must cut the error of the curve without one by a quarter, and by at least 1%
/// rms, to be kept.
struct GemmPoint {
  double m, n, e;
  bool above_ridge = true; ///< its FLOP time at the spec peak >= its bytes' time at the spec bandwidth
};
/// The output tiles a fit tries (none first): common CUTLASS and cuBLAS tile shapes.
const std::vector<std::pair<double, double>> k_tiles = {{0, 0},     {64, 64},   {64, 128}, {128, 64},
                                                        {128, 128}, {128, 256}, {256, 128}};

/// Whether a tile's fit (error `err`) is kept over the best so far (`best`) and the fit
/// without a tile (`none`): only if it explains a quarter of the error the curve alone leaves,
/// and at least `min_gain` (a wave fraction constant over the points is no more than a
/// rescaled e_max).
bool tile_kept(double tm, double err, double best, double none, double min_gain) {
  return err < best && (tm == 0 || (err < 0.75 * none && none - err > min_gain));
}

FitResult::Gemm fit_gemm(const std::vector<GemmPoint> &pts, int sms) {
  const auto &tiles = k_tiles;
  FitResult::Gemm best;
  double best_sse = std::numeric_limits<double>::infinity(), none_sse = best_sse;
  for (const auto &[tm, tn] : tiles) {
    if (tm > 0 && sms <= 0) continue;
    std::vector<double> ms, es;
    for (const auto &p : pts) {
      ms.push_back(p.m);
      es.push_back(p.e / hw::gemm_wave_fraction(p.m, p.n, tm, tn, sms));
    }
    const auto [e_max, m_half] = saturating(ms, es);
    double sse = 0;
    for (const auto &p : pts) {
      const double pred = e_max * p.m / (p.m + m_half) * hw::gemm_wave_fraction(p.m, p.n, tm, tn, sms);
      sse += (pred - p.e) * (pred - p.e) / (p.e * p.e);
    }
    if (tm == 0) none_sse = sse;
    // At least 1% rms of relative error over the points.
    if (tile_kept(tm, sse, best_sse, none_sse, 1e-4 * static_cast<double>(pts.size()))) {
      best_sse = sse;
      best = {e_max, m_half, tm, tn, pts.size()};
    }
  }
  return best;
}

/// One GEMM case of the joint fit, with what its predicted time needs.
struct JointCase {
  double m, n, flops, bytes, elements, t;
};

/// A GEMM case's time under `g`, by the formula sim::cost_op prices the operator with.
double gemm_time(const JointCase &c, const hw::GemmTerms &g, double wave, double peak, double hbm,
                 DType dt) {
  return g.times(Flops(c.flops), Bytes(c.bytes), c.m, wave, c.elements, dt, FlopsPerSecond(peak),
                 BytesPerSecond(hbm))
      .total()
      .value();
}

/// The joint fit's loss of a case is pseudo-Huber in r = log(predicted / measured):
/// 2 (sqrt(1 + (r / c)^2) - 1), quadratic below c and linear above, so that a few shapes where
/// a library picks an odd kernel (2x off) do not pull the terms away from the many it fits.
constexpr double k_loss_scale = 0.1;

double logistic(double x) { return 1 / (1 + std::exp(-x)); }
double logit(double p) { return std::log(p / (1 - p)); }

/// The joint fit of a GEMM type's terms to all its cases, memory- and compute-bound alike, by
/// the least pseudo-Huber loss of log(predicted / measured) (Nelder-Mead), from the two-step
/// fit `seq`: the compute curve (e_max, m_half) with each tile of k_tiles, the memory terms (bandwidth, fixed
/// cost) when `free_memory` (the two-step fit had memory-bound cases for them; else they stay
/// `bandwidth` and `overhead_s`), and for a type narrower than BF16 the conversion pass
/// (kept only when it cuts the error by a tenth). The result replaces `seq` only when it cuts
/// the two-step fit's error.
FitResult::Gemm joint_gemm(const std::vector<JointCase> &cases, FitResult::Gemm seq, bool free_memory,
                           double bandwidth, double overhead_s, DType dt, double peak, double hbm,
                           int sms) {
  const auto terms = [](double e_max, double m_half, double tm, double tn, double bw, double ov,
                        double q) {
    return hw::GemmTerms{.e_max = e_max, .m_half = m_half, .tile_m = tm, .tile_n = tn,
                         .bandwidth = bw, .overhead = Seconds(ov), .quantize = q};
  };
  const auto loss_of = [&](const hw::GemmTerms &g, const std::vector<double> &waves) {
    double loss = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const double z =
          std::log(gemm_time(cases[i], g, waves[i], peak, hbm, dt) / cases[i].t) / k_loss_scale;
      loss += 2 * (std::sqrt(1 + z * z) - 1);
    }
    return std::isfinite(loss) ? loss : std::numeric_limits<double>::infinity();
  };
  const auto waves_of = [&](double tm, double tn) {
    std::vector<double> w;
    for (const auto &c : cases) w.push_back(hw::gemm_wave_fraction(c.m, c.n, tm, tn, sms));
    return w;
  };
  const double bw0 = seq.bandwidth > 0 ? seq.bandwidth : bandwidth;
  const double ov0 = seq.bandwidth > 0 ? seq.overhead_s : overhead_s;
  const double loss_seq =
      loss_of(terms(seq.e_max, seq.m_half, seq.tile_m, seq.tile_n, bw0, ov0, 0), waves_of(seq.tile_m, seq.tile_n));
  const bool narrow = dtype_storage_bits(dt) < 16;
  struct Trial {
    hw::GemmTerms g;
    double loss = std::numeric_limits<double>::infinity();
  };
  Trial best_plain, best_quant;
  double none_plain = best_plain.loss, none_quant = best_quant.loss;
  constexpr double k_max_log_half = 13.8; // m_half below 1e6 rows
  for (const auto &[tm, tn] : k_tiles) {
    if (tm > 0 && sms <= 0) continue;
    const std::vector<double> waves = waves_of(tm, tn);
    for (const bool quant : {false, true}) {
      if (quant && !narrow) continue;
      // x: logit e_max, log m_half, [logit bandwidth, log fixed cost], [logit conversion].
      const auto unpack = [&](const std::vector<double> &x) {
        std::size_t k = 2;
        // Within the bounds a table loads with: fractions in [1e-4, 1], a fixed cost <= 1 s.
        const double bw = free_memory ? std::max(1e-4, logistic(x[k++])) : bw0;
        const double ov = free_memory ? std::min(1.0, std::exp(x[k++])) : ov0;
        const double q = quant ? std::max(1e-4, logistic(x[k])) : 0;
        // Below half a row the curve is no curve: written, and fitted, as 0.
        const double m_half = std::exp(std::min(x[1], k_max_log_half));
        return terms(std::max(1e-4, logistic(x[0])), m_half < 0.5 ? 0 : m_half, tm, tn, bw, ov, q);
      };
      std::vector<double> x0{logit(std::clamp(seq.e_max, 0.05, 0.98)), std::log(std::max(seq.m_half, 1.0))};
      if (free_memory) {
        x0.push_back(logit(std::clamp(bw0, 0.05, 0.98)));
        x0.push_back(std::log(std::max(ov0, 1e-7)));
      }
      if (quant) x0.push_back(0.0); // half of HBM
      const Minimum mn = nelder_mead([&](const std::vector<double> &x) { return loss_of(unpack(x), waves); }, x0);
      Trial &best = quant ? best_quant : best_plain;
      double &none = quant ? none_quant : none_plain;
      if (tm == 0) none = mn.value;
      // At least 1% rms of relative error over the cases (loss ~ (r / c)^2 per case).
      const double min_gain = 1e-4 / (k_loss_scale * k_loss_scale) * static_cast<double>(cases.size());
      if (tile_kept(tm, mn.value, best.loss, none, min_gain)) best = {unpack(mn.x), mn.value};
    }
  }
  const Trial &chosen = best_quant.loss < 0.9 * best_plain.loss ? best_quant : best_plain;
  // At the bound, the points want a curve above the peak (the two-step fit then fell back to a
  // constant, for the reason its note gives): keep that.
  if (chosen.g.e_max > 0.999) return seq;
  if (!(chosen.loss < loss_seq * (1 - 1e-3) && loss_seq - chosen.loss > 1e-6 * static_cast<double>(cases.size())))
    return seq;
  FitResult::Gemm g = seq;
  g.e_max = chosen.g.e_max;
  g.m_half = chosen.g.m_half;
  g.tile_m = chosen.g.tile_m;
  g.tile_n = chosen.g.tile_n;
  if (free_memory) {
    g.bandwidth = chosen.g.bandwidth;
    g.overhead_s = chosen.g.overhead.value();
  }
  g.quantize = chosen.g.quantize;
  g.cases = cases.size();
  g.joint = true;
  return g;
}

} // namespace

std::pair<double, double> fit_line(const std::vector<double> &x, const std::vector<double> &y) {
  if (x.size() != y.size() || x.empty()) throw InternalError("fit_line: bad input sizes");
  const auto n = static_cast<Eigen::Index>(x.size());
  const double lo = *std::min_element(x.begin(), x.end()), hi = *std::max_element(x.begin(), x.end());
  if (n < 2 || hi == lo) return {mean(y), 0};
  // Scale x to [0, 1] for conditioning, then map the slope back.
  Eigen::MatrixXd a(n, 2);
  Eigen::VectorXd b(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    a(i, 0) = 1;
    a(i, 1) = (x[k] - lo) / (hi - lo);
    b(i) = y[k];
  }
  const Eigen::Vector2d s = a.colPivHouseholderQr().solve(b);
  const double slope = s(1) / (hi - lo);
  return {s(0) - slope * lo, slope};
}

std::vector<double> relative_least_squares(const std::vector<std::vector<double>> &a,
                                           const std::vector<double> &y) {
  if (a.size() != y.size() || a.empty()) throw InternalError("relative_least_squares: bad sizes");
  const auto n = static_cast<Eigen::Index>(a.size());
  const auto k = static_cast<Eigen::Index>(a.front().size());
  // Each column scaled to unit maximum for conditioning; the solution is scaled back.
  std::vector<double> scale(static_cast<std::size_t>(k), 0);
  for (const auto &row : a) {
    if (static_cast<Eigen::Index>(row.size()) != k) throw InternalError("relative_least_squares: ragged");
    for (Eigen::Index j = 0; j < k; ++j)
      scale[static_cast<std::size_t>(j)] =
          std::max(scale[static_cast<std::size_t>(j)], std::fabs(row[static_cast<std::size_t>(j)]));
  }
  Eigen::MatrixXd m(n, k);
  Eigen::VectorXd b(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto r = static_cast<std::size_t>(i);
    if (!(y[r] > 0)) throw InternalError("relative_least_squares: y must be positive");
    for (Eigen::Index j = 0; j < k; ++j) {
      const auto c = static_cast<std::size_t>(j);
      m(i, j) = scale[c] > 0 ? a[r][c] / scale[c] / y[r] : 0;
    }
    b(i) = 1;
  }
  const Eigen::VectorXd s = m.colPivHouseholderQr().solve(b);
  std::vector<double> out(static_cast<std::size_t>(k));
  for (Eigen::Index j = 0; j < k; ++j) {
    const auto c = static_cast<std::size_t>(j);
    out[c] = scale[c] > 0 ? s(j) / scale[c] : 0;
  }
  return out;
}

hw::GpuSpec host_reference_spec(const std::vector<Measurement> &measurements, const DeviceInfo &d) {
  // Memory bandwidth: the best stream beyond 4 x the last-level cache (else any stream).
  double flops = 0, bw = 0, any_bw = 0;
  for (const auto &m : measurements) {
    if (!usable(m)) continue;
    if (m.c.kind == CaseKind::gemm) flops = std::max(flops, m.c.flops / m.median_s);
    if (m.c.kind == CaseKind::stream) {
      any_bw = std::max(any_bw, m.c.bytes_moved / m.median_s);
      if (m.c.bytes >= 4 * d.l2_bytes) bw = std::max(bw, m.c.bytes_moved / m.median_s);
    }
  }
  if (!(bw > 0)) bw = any_bw;
  if (!(flops > 0) || !(bw > 0))
    throw InputError("a CPU reference needs at least one GEMM and one stream measurement");
  hw::GpuSpec g;
  g.id = "host-cpu";
  g.name = d.name + " (host reference: peaks = best measured)";
  g.architecture = hw::Architecture::cpu; // a calibration of it never transfers to a GPU
  g.form_factor = "pcie";
  g.memory_type = "DRAM";
  // The memory the device itself reported (host RAM for the CPU backend): there is no datasheet.
  g.memory_datasheet = Bytes(d.memory_bytes > 0 ? d.memory_bytes : 1);
  g.memory_reported = g.memory_datasheet;
  g.memory_bandwidth = BytesPerSecond(bw);
  if (d.l2_bytes > 0) g.l2 = Bytes(d.l2_bytes);
  for (const char *k : {"fp32", "bf16", "fp16"}) g.dense_flops[k] = FlopsPerSecond(flops);
  g.pcie = hw::PcieSpec{4, 16};
  g.notes.push_back("peaks are the best measured rates of this CPU run, not a datasheet");
  g.file = "(host reference)";
  return g;
}

bool held_out(const std::vector<Measurement> &all, std::size_t index) {
  const auto &c = all[index].c;
  if (c.kind == CaseKind::layer) return true;
  if (c.kind == CaseKind::launch) return false; // one case: it sets the launch floor
  if (c.kind == CaseKind::all_reduce) return all_reduce_held_out(all, index);
  // A deterministic spread: FNV-1a of the case id, one in four held out, so the held-out set
  // is not one shape family (every 4th case of a kind would be all triads, all M = 64, ...).
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : c.id) h = (h ^ ch) * 1099511628211ULL;
  return h % 4 == 0;
}

bool warm_in_l2(const Case &c, const hw::GpuSpec &gpu) {
  return c.kind == CaseKind::attention_decode && c.latent_dim == 0 && !c.cold && gpu.l2 &&
         c.bytes_moved < gpu.l2->value();
}

FitResult fit(const std::vector<Measurement> &measurements, const hw::GpuSpec &spec,
              const hw::Efficiency &defaults) {
  FitResult r;
  std::vector<const Measurement *> train;
  for (std::size_t i = 0; i < measurements.size(); ++i) {
    if (!usable(measurements[i])) continue;
    if (held_out(measurements, i)) {
      ++r.held;
    } else {
      train.push_back(&measurements[i]);
      ++r.fitted;
    }
  }
  // Launch floor.
  // Launch floor: the small real operation when measured (a tiny kernel's whole cost, which is
  // what the model adds per kernel), else the back-to-back empty kernel. Launch cases are never
  // held out.
  std::vector<double> launches, small_ops;
  for (const auto *m : train)
    if (m->c.kind == CaseKind::launch) (m->c.hidden > 0 ? small_ops : launches).push_back(m->median_s);
  if (!small_ops.empty()) launches = small_ops;
  r.kernel_overhead_s = launches.empty() ? defaults.kernel_overhead.value() : median(launches);
  if (launches.empty()) r.notes.push_back("no launch case: kernel_overhead_s from the defaults");
  else if (small_ops.empty()) r.notes.push_back("kernel_overhead_s from empty kernels (no small-operation case)");
  const double overhead = r.kernel_overhead_s;
  // HBM: streams beyond 4 x L2.
  const double l2 = spec.l2 ? spec.l2->value() : 0;
  std::vector<double> sb, st;
  for (const auto *m : train)
    if (m->c.kind == CaseKind::stream && m->c.bytes >= 4 * l2) {
      sb.push_back(m->c.bytes_moved);
      st.push_back(m->median_s);
    }
  if (sb.size() >= 2) {
    const auto [t0, inv_bw] = fit_line(sb, st);
    r.stream_fixed_s = std::max(0.0, t0);
    r.hbm_bandwidth_Bps = inv_bw > 0 ? 1 / inv_bw : 0;
  }
  if (!(r.hbm_bandwidth_Bps > 0) && !sb.empty()) {
    r.stream_fixed_s = 0;
    double best = 0;
    for (std::size_t i = 0; i < sb.size(); ++i) best = std::max(best, sb[i] / st[i]);
    r.hbm_bandwidth_Bps = best;
    r.notes.push_back("HBM: too few large streams for a line fit; best achieved bandwidth used");
  }
  if (sb.empty()) r.notes.push_back("HBM: no stream beyond 4 x L2 in the fit set");
  const double bw = r.hbm_bandwidth_Bps > 0 ? r.hbm_bandwidth_Bps
                                            : spec.memory_bandwidth.value() * defaults.hbm_bandwidth;
  // Memory-bound GEMMs per dtype (their FLOP time at the spec peak under a tenth of their bytes'
  // time at the spec bandwidth): t = t0 + bytes / (HBM e), by relative least squares, when at
  // least 8 were measured over more than one size. Their fixed cost and bandwidth replace the
  // kernel overhead and the stream bandwidth for GEMMs of that type.
  constexpr std::size_t k_min_memory_gemms = 8;
  std::map<std::string, std::pair<std::vector<std::vector<double>>, std::vector<double>>> mem_points;
  for (const auto *m : train) {
    if (m->c.kind != CaseKind::gemm) continue;
    const auto peak = spec.matmul_peak(m->c.dtype);
    if (!peak) continue;
    const double mem_t = m->c.bytes_moved / spec.memory_bandwidth.value();
    if (m->c.flops / peak->value() > 0.1 * mem_t) continue;
    auto &[a, y] = mem_points[to_string(m->c.dtype)];
    a.push_back({1.0, mem_t});
    y.push_back(m->median_s);
  }
  std::map<std::string, std::pair<double, double>> gemm_mem; // dtype -> {overhead, bandwidth}
  for (const auto &[dt, pts] : mem_points) {
    const auto &[a, y] = pts;
    bool sizes_vary = false;
    for (const auto &row : a) sizes_vary = sizes_vary || row[1] != a.front()[1];
    if (a.size() < k_min_memory_gemms || !sizes_vary) continue;
    const auto c = relative_least_squares(a, y);
    if (!(c[0] >= 0) || !(c[1] > 0)) {
      r.notes.push_back(fmt_terms("memory-bound GEMM " + dt + ": the fit gave a non-positive term", c) +
                        "; not used");
      continue;
    }
    const double e = fraction(1 / c[1], "memory-bound GEMM " + dt + " bandwidth efficiency", r.notes);
    if (e > 0) gemm_mem[dt] = {c[0], e};
    r.gemm[dt].memory_cases = a.size();
  }
  // GEMMs: the compute-bound ones (time well above their memory time) per dtype.
  std::map<std::string, std::vector<GemmPoint>> gemm_points;
  for (const auto *m : train) {
    if (m->c.kind != CaseKind::gemm) continue;
    const auto peak = spec.matmul_peak(m->c.dtype);
    const auto mem = gemm_mem.find(to_string(m->c.dtype));
    const double g_over = mem != gemm_mem.end() ? mem->second.first : overhead;
    const double g_bw = mem != gemm_mem.end() ? spec.memory_bandwidth.value() * mem->second.second : bw;
    const double busy = m->median_s - g_over;
    if (!peak || busy <= 0 || m->median_s < 1.5 * (m->c.bytes_moved / g_bw + g_over)) continue;
    gemm_points[to_string(m->c.dtype)].push_back(
        {static_cast<double>(m->c.m), static_cast<double>(m->c.n), m->c.flops / (peak->value() * busy),
         m->c.flops / peak->value() >= m->c.bytes_moved / spec.memory_bandwidth.value()});
  }
  // Wave quantization needs the SM count; a CPU has no tiles in waves.
  const int sms = spec.architecture == hw::Architecture::cpu ? 0 : spec.sm_count.value_or(0);
  // Each dtype fits its own small-M curve and tile (an FP8 or FP4 kernel family differs from
  // BF16's); BF16's are the table's defaults, the others go to gemm_curve_by_dtype.
  for (const auto &[dt, pts] : gemm_points) {
    // The time test above also lets in slow small-M GEMMs (M = 1 at a thousandth of the peak,
    // when too few memory-bound cases were measured for their own fit). Without one case above
    // the ridge point there is nothing to set the large-M efficiency: fitted, those cases alone
    // would price every prefill GEMM of the type hundreds of times too slow.
    if (std::none_of(pts.begin(), pts.end(), [](const GemmPoint &p) { return p.above_ridge; })) {
      r.notes.push_back("GEMM " + dt + ": none of its " + std::to_string(pts.size()) +
                        " slow cases is above the ridge point (all small M); its compute "
                        "efficiency is not fitted (from the defaults)");
      continue;
    }
    FitResult::Gemm g = fit_gemm(pts, sms);
    if (g.e_max > 1) {
      // The curve's asymptote is above the peak: the points do not follow e_max M / (M +
      // m_half) (erratic kernel choices from one shape to the next). A constant instead: the
      // median efficiency of the cases above the ridge point (FLOP time at the peak at least
      // the bytes' time at the spec bandwidth), no small-M curve, no tile. The slow small-M
      // cases the time test above also lets in (M = 1 at a thousandth of the peak) are left
      // out: counted, they would set the constant for every M, large-M prefill included.
      std::vector<double> es;
      for (const auto &p : pts)
        if (p.above_ridge) es.push_back(p.e);
      if (es.empty())
        for (const auto &p : pts) es.push_back(p.e);
      r.notes.push_back("GEMM " + dt + ": the small-M curve's maximum came out at " +
                        std::to_string(g.e_max) + " of peak; the median of its " +
                        std::to_string(es.size()) + " compute-bound cases above the ridge point (of " +
                        std::to_string(pts.size()) + ") is used instead, as a constant");
      g = FitResult::Gemm{median(es), 0, 0, 0, pts.size()};
    }
    g.e_max = fraction(g.e_max, "GEMM " + dt + " efficiency", r.notes);
    g.memory_cases = r.gemm[dt].memory_cases;
    r.gemm[dt] = g;
  }
  for (const auto &[dt, ob] : gemm_mem) {
    r.gemm[dt].overhead_s = ob.first;
    r.gemm[dt].bandwidth = ob.second;
  }
  // The joint fit over all of a type's GEMMs, from the two-step fit above: the model's time is
  // the larger of a compute and a memory time, and the cases near the ridge point, which
  // neither step sees, and the compute cases' fixed cost shape the error as much as the others.
  constexpr std::size_t k_min_joint = 16;
  for (auto &[dt, g] : r.gemm) {
    if (!(g.e_max > 0) || g.cases == 0) continue; // no compute-bound fit to start from
    const DType t = dtype_from_string(dt);
    const auto peak = spec.matmul_peak(t);
    if (!peak) continue;
    std::vector<JointCase> cases;
    for (const auto *m : train)
      if (m->c.kind == CaseKind::gemm && m->c.dtype == t && m->c.n > 0)
        cases.push_back({static_cast<double>(m->c.m), static_cast<double>(m->c.n), m->c.flops,
                         m->c.bytes_moved, m->c.flops / (2 * static_cast<double>(m->c.n)), m->median_s});
    if (cases.size() < k_min_joint) continue;
    g = joint_gemm(cases, g, gemm_mem.count(dt) > 0, std::min(1.0, bw / spec.memory_bandwidth.value()),
                   overhead, t, peak->value(), spec.memory_bandwidth.value(), sms);
    if (g.joint)
      r.notes.push_back("GEMM " + dt + ": the joint fit over its " + std::to_string(cases.size()) +
                        " fitted cases replaced the two-step terms above" +
                        (g.quantize > 0 ? ", with a BF16-to-" + dt + " conversion pass at " +
                                              std::to_string(g.quantize) + " of " +
                                              (spec.memory_type.empty() ? std::string("memory")
                                                                        : spec.memory_type)
                                        : std::string()));
  }
  // Attention. Cases that ran a production kernel (published measurements: FlashAttention-3
  // in vLLM) fit the additive model: t = fixed + item x (sequence, KV head) pairs + FLOP /
  // (BF16 peak e_c) + bytes / (HBM e_decode or e_prefill), one least-squares fit of relative
  // error over decode (not MLA-like) and prefill cases together. rooftop's own kernels are
  // simpler than those; their decode sets the bandwidth curve and their prefill is reported.
  std::vector<const Measurement *> attn;
  bool own_kernel = false;
  std::size_t n_prefill = 0;
  std::map<std::string, std::size_t> n_decode; // by KV-cache dtype
  for (const auto *m : train) {
    const bool dec = m->c.kind == CaseKind::attention_decode && m->c.latent_dim == 0;
    const bool pre = m->c.kind == CaseKind::attention_prefill;
    if (!dec && !pre) continue;
    attn.push_back(m);
    if (dec)
      n_decode[to_string(m->c.dtype)] += 1;
    else
      n_prefill += 1;
    if (m->implementation.rfind("rooftop", 0) == 0 || m->implementation.rfind("Eigen", 0) == 0 ||
        m->implementation.empty())
      own_kernel = true;
  }
  const auto bf16 = spec.matmul_peak(DType::bf16);
  constexpr std::size_t k_min_additive = 8; // cases of each phase (and KV type) for a fit
  // A case timed warm (no L2 flush between replays: published CUDA-graph timings) whose data
  // fit in L2 reads them from L2, not HBM; in a model the other layers evict them first. With
  // enough such cases their bytes get a bandwidth of their own, fitted but not used, so that
  // they set neither HBM term (L40S: 96 MiB of L2, such decode cases at up to 2.8 x GDDR6 each).
  const double l2_cap = spec.l2 ? spec.l2->value() : 0;
  const auto l2_resident = [&](const Measurement *m) { return warm_in_l2(m->c, spec); };
  std::size_t n_resident = 0, n_decode_hbm = 0, n_prefill_hbm = 0;
  for (const auto *m : attn) {
    if (l2_resident(m))
      ++n_resident;
    else
      ++(m->c.kind == CaseKind::attention_decode ? n_decode_hbm : n_prefill_hbm);
  }
  const bool l2_possible = n_resident >= k_min_additive && n_decode_hbm >= k_min_additive &&
                         n_prefill_hbm >= k_min_additive;
  // Decode over a KV cache of another type than BF16 (an FP8 cache: other kernels) gets its own
  // fixed, per-item and bandwidth terms when it has enough cases; BF16 decode and prefill share
  // the table's own. Columns: fixed, item, FLOP, decode bytes, prefill bytes, then per own type
  // its fixed, item and decode bytes, then (l2_column) the bytes of L2-resident cases.
  const auto additive = [&](const std::vector<std::string> &own, bool l2_column) {
    std::vector<std::vector<double>> a;
    std::vector<double> y;
    const double hbm = spec.memory_bandwidth.value();
    for (const auto *m : attn) {
      const bool dec = m->c.kind == CaseKind::attention_decode;
      const double items = static_cast<double>(m->c.batch) * static_cast<double>(m->c.kv_heads);
      const bool in_l2 = l2_column && l2_resident(m);
      const double mem = in_l2 ? 0.0 : m->c.bytes_moved / hbm;
      const auto j = dec ? std::find(own.begin(), own.end(), to_string(m->c.dtype)) : own.end();
      const bool base = j == own.end();
      std::vector<double> row{base ? 1.0 : 0.0, base ? items : 0.0, m->c.flops / bf16->value(),
                              dec && base ? mem : 0.0, dec ? 0.0 : mem};
      for (auto k = own.begin(); k != own.end(); ++k) {
        const bool mine = k == j;
        row.insert(row.end(), {mine ? 1.0 : 0.0, mine ? items : 0.0, mine ? mem : 0.0});
      }
      if (l2_column) row.push_back(in_l2 ? m->c.bytes_moved / hbm : 0.0);
      a.push_back(std::move(row));
      y.push_back(m->median_s);
    }
    const auto c = relative_least_squares(a, y);
    bool ok = c[0] > 0 && c[1] >= 0 && c[2] > 0 && c[3] > 0 && c[4] > 0;
    for (std::size_t k = 0; k < own.size(); ++k)
      ok = ok && c[5 + 3 * k] > 0 && c[6 + 3 * k] >= 0 && c[7 + 3 * k] > 0;
    if (l2_column) ok = ok && c.back() > 0;
    return std::pair{ok, c};
  };
  // The L2 column is kept only when those cases read their data faster than HBM allows (the
  // sign that L2 served them); otherwise they are fitted with the rest. Returns the fit and
  // whether it has the column.
  const auto fit_attention = [&](const std::vector<std::string> &own) {
    auto [ok, c] = additive(own, l2_possible);
    if (l2_possible && !(ok && 1 / c.back() > 1)) {
      auto [ok0, c0] = additive(own, false);
      return std::tuple{ok0, c0, false};
    }
    return std::tuple{ok, c, l2_possible};
  };
  std::vector<std::string> own;
  std::size_t n_base = 0;
  std::size_t n_all = 0;
  for (const auto &[dt, n] : n_decode) {
    n_all += n;
    if (dt != to_string(DType::bf16) && n >= k_min_additive)
      own.push_back(dt);
    else
      n_base += n;
  }
  // Too few decode cases left for the table's own terms (a set measured over FP8 caches only):
  // none is split out, all share them.
  if (n_base < k_min_additive) {
    own.clear();
    n_base = n_all;
  }
  if (!own_kernel && bf16 && n_base >= k_min_additive && n_prefill >= k_min_additive) {
    auto [ok, c, l2_column] = fit_attention(own);
    if (!ok && !own.empty()) {
      std::string types;
      for (const auto &dt : own) types += (types.empty() ? "" : ", ") + dt;
      r.notes.push_back(fmt_terms("attention: the fit with decode terms of its own for KV cache " +
                                      types + " gave a non-positive term",
                                  c) +
                        "; those cases share BF16's terms");
      own.clear();
      std::tie(ok, c, l2_column) = fit_attention(own);
    }
    if (ok) {
      r.additive_attention = true;
      r.attention_fixed_s = c[0];
      r.attention_item_s = c[1];
      r.attention_flops = fraction(1 / c[2], "attention FLOP efficiency", r.notes);
      r.attention_bandwidth = fraction(1 / c[3], "decode attention bandwidth efficiency", r.notes);
      r.attention_prefill_bandwidth =
          fraction(1 / c[4], "prefill attention bandwidth efficiency", r.notes);
      r.attention_context_half = 0;
      for (std::size_t k = 0; k < own.size(); ++k)
        r.attention_decode_by_kv_dtype[own[k]] = {
            Seconds(c[5 + 3 * k]), Seconds(c[6 + 3 * k]),
            fraction(1 / c[7 + 3 * k], "decode attention bandwidth efficiency (KV cache " + own[k] + ")",
                     r.notes)};
      if (l2_column)
        r.notes.push_back("attention: " + std::to_string(n_resident) +
                          " decode cases timed warm with their KV cache within L2 (" +
                          fmt::format("{:.1f}", l2_cap / 1048576.0) + " MiB) fitted with a bandwidth of their own, " + std::to_string(1 / c.back()) +
                          " of " + (spec.memory_type.empty() ? std::string("memory") : spec.memory_type) +
                          ", not used in estimates (a model's other layers evict them)");
    } else {
      r.notes.push_back(fmt_terms("attention: the additive fit gave a non-positive term", c) +
                        "; attention from the defaults");
    }
  } else {
    std::vector<double> ae, dc, de;
    std::string prefill_impl;
    for (const auto *m : train) {
      const double busy = m->median_s - 2 * overhead; // split and combine kernels
      if (busy <= 0) continue;
      if (m->c.kind == CaseKind::attention_prefill && bf16) {
        ae.push_back(m->c.flops / (bf16->value() * busy));
        if (prefill_impl.empty()) prefill_impl = m->implementation;
      }
      // MLA-like decode (many heads over one latent) is compute-heavy: reported, not part of
      // the bandwidth curve, which is the memory-bound MHA and GQA layouts.
      if (m->c.kind == CaseKind::attention_decode && m->c.latent_dim == 0) {
        dc.push_back(static_cast<double>(m->c.context));
        de.push_back(m->c.bytes_moved / busy / spec.memory_bandwidth.value());
      }
    }
    if (!ae.empty()) r.attention_flops = fraction(median(ae), "prefill attention efficiency", r.notes);
    if (!de.empty()) {
      const auto [e_max, c_half] = saturating(dc, de);
      r.attention_bandwidth = fraction(e_max, "decode attention bandwidth efficiency", r.notes);
      r.attention_context_half = c_half;
    }
    r.prefill_impl = prefill_impl;
  }
  // The table.
  hw::Efficiency e = defaults;
  e.origin = hw::EfficiencyOrigin::measured;
  e.kernel_overhead = Seconds(overhead);
  if (r.hbm_bandwidth_Bps > 0)
    e.hbm_bandwidth = fraction(r.hbm_bandwidth_Bps / spec.memory_bandwidth.value(),
                               "HBM bandwidth efficiency", r.notes);
  if (e.hbm_bandwidth <= 0) e.hbm_bandwidth = defaults.hbm_bandwidth;
  if (auto it = r.gemm.find("bf16"); it != r.gemm.end() && it->second.e_max > 0)
    e.gemm_flops = it->second.e_max;
  else
    r.notes.push_back("no compute-bound BF16 GEMM: gemm_flops_efficiency from the defaults");
  if (auto it = r.gemm.find("bf16"); it != r.gemm.end() && it->second.e_max > 0) {
    e.gemm_m_half = it->second.m_half;
    e.gemm_tile_m = it->second.tile_m;
    e.gemm_tile_n = it->second.tile_n;
  }
  for (const auto &[dt, g] : r.gemm)
    if (dt != "bf16" && g.e_max > 0 && g.cases > 0)
      e.gemm_curve_by_dtype[dt] = {g.m_half, g.tile_m, g.tile_n};
  for (const auto &[dt, g] : r.gemm) {
    if (g.e_max > 0) e.gemm_flops_by_dtype[dt] = g.e_max;
    if (g.bandwidth > 0) {
      e.gemm_bandwidth_by_dtype[dt] = g.bandwidth;
      e.gemm_overhead_by_dtype[dt] = g.overhead_s;
    }
    if (g.quantize > 0) e.gemm_quantize_by_dtype[dt] = g.quantize;
  }
  if (r.additive_attention) {
    e.attention_flops = r.attention_flops > 0 ? r.attention_flops : defaults.attention_flops;
    e.attention_bandwidth = r.attention_bandwidth;
    e.attention_context_half = 0;
    e.attention_prefill_bandwidth = r.attention_prefill_bandwidth;
    e.attention_fixed = Seconds(r.attention_fixed_s);
    e.attention_item = Seconds(r.attention_item_s);
    e.attention_decode_by_kv_dtype = r.attention_decode_by_kv_dtype;
  } else {
    // Prefill attention is measured with rooftop's flash_wmma kernel (tensor cores through
    // WMMA, no asynchronous copies or warp specialisation): below FlashAttention-2/3, so it is
    // reported but does not set the table's value.
    if (r.attention_flops > 0)
      r.notes.push_back("prefill attention measured at " + std::to_string(r.attention_flops) +
                        " of the BF16 peak with " +
                        (r.prefill_impl.empty() ? std::string("an unnamed kernel") : r.prefill_impl) +
                        " (simpler than FlashAttention-2/3): reported, not used; "
                        "attention_flops_efficiency stays at the default");
    else
      r.notes.push_back("no prefill attention: attention_flops_efficiency from the defaults");
    e.attention_bandwidth = r.attention_bandwidth;
    e.attention_context_half = r.attention_context_half;
  }
  e.allreduce = fit_allreduce(train, r.notes);
  r.allreduce_cases = 0;
  for (const auto *m : train) r.allreduce_cases += m->c.kind == CaseKind::all_reduce ? 1 : 0;
  r.notes.push_back("not measured by this plan (from the defaults): NVLink, network and NVLS "
                    "efficiencies, collective latency (NCCL's model)");
  r.efficiency = e;
  return r;
}

} // namespace rooftop::cal
