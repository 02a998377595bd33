// The host backend: the same plan on the CPU (Eigen GEMMs in FP32, STREAM-style loops, a
// reference attention and a composed decoder layer), so plan, measure, fit and validate run and
// are tested on machines without a GPU. Its figures describe the CPU, not any GPU.
#include "calibration/backend.hpp"
#include "calibration/runner.hpp"
#include "core/errors.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace rooftop::cal {
namespace {

using Clock = std::chrono::steady_clock;
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Seconds per call of `f`, repeating it until at least 1 ms has passed (timer resolution).
template <class F> double timed(F &&f) {
  long long reps = 0;
  const auto start = Clock::now();
  double el = 0;
  do {
    f();
    ++reps;
    el = std::chrono::duration<double>(Clock::now() - start).count();
  } while (el < 1e-3);
  return el / static_cast<double>(reps);
}

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

/// Softmax(q K^T / sqrt(d)) V for one query row over `ctx` keys.
void attend(const float *q, const Mat &k, const Mat &v, long long ctx, float *out, long long dv) {
  Eigen::Map<const Eigen::RowVectorXf> qv(q, k.cols());
  Eigen::RowVectorXf s = qv * k.topRows(ctx).transpose() / std::sqrt(static_cast<float>(k.cols()));
  s = (s.array() - s.maxCoeff()).exp();
  s /= s.sum();
  Eigen::Map<Eigen::RowVectorXf>(out, dv) = s * v.topRows(ctx);
}

class CpuBackend final : public Backend {
public:
  explicit CpuBackend(int threads) {
    Eigen::setNbThreads(threads > 0 ? threads : 1);
  }

  [[nodiscard]] DeviceInfo device() const override {
    DeviceInfo d;
    d.backend = "cpu";
    d.name = cpu_name();
    d.sm_count = static_cast<int>(std::thread::hardware_concurrency());
    d.memory_bytes = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
    // The per-core L2: a shared L3 can be hundreds of MB on servers (and in VMs reports the
    // whole socket), which would put DRAM-sized streams out of a quick run's reach. Streams
    // beyond 4 x L2 may still hit L3: the CPU backend checks the pipeline, not DRAM.
    const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    d.l2_bytes = static_cast<double>(l2 > 0 ? l2 : 1 << 20);
    return d;
  }

  Measurement run(const Case &c, const StopRule &rule) override {
    Measurement m = run_case(c, rule);
    if (!m.skipped)
      m.implementation = c.kind == CaseKind::launch && c.hidden > 0 ? "Eigen RMSNorm of one row"
                                                                    : implementation(c.kind);
    return m;
  }

  /// The CPU backend's kernels, by case kind.
  static const char *implementation(CaseKind k) {
    switch (k) {
    case CaseKind::gemm: return "Eigen GEMM (FP32)";
    case CaseKind::stream: return "C++ loops";
    case CaseKind::attention_decode:
    case CaseKind::attention_prefill: return "rooftop reference attention (Eigen, one row at a time)";
    case CaseKind::launch: return "an empty function call";
    case CaseKind::layer: return "Eigen GEMMs and the reference attention";
    case CaseKind::all_reduce: return "";
    }
    return "";
  }

  Measurement run_case(const Case &c, const StopRule &rule) {
    switch (c.kind) {
    case CaseKind::gemm: return gemm(c, rule);
    case CaseKind::stream: return stream(c, rule);
    case CaseKind::attention_decode: return decode(c, rule);
    case CaseKind::attention_prefill: return prefill(c, rule);
    case CaseKind::launch: return launch(c, rule);
    case CaseKind::layer: return layer(c, rule);
    case CaseKind::all_reduce:
      throw NotSupported("an all_reduce case needs several GPUs; it comes only from published "
                         "measurements (docs/calibration.md)");
    }
    throw InternalError("CpuBackend::run: unknown case kind");
  }

  /// The Eigen GEMM and the attention against plain double loops.
  std::vector<SelfCheck> self_check() override {
    std::vector<SelfCheck> out;
    {
      const Mat a = Mat::Random(5, 33), b = Mat::Random(33, 17);
      const Mat got = a * b;
      double err = 0, scale = 0;
      for (Eigen::Index i = 0; i < a.rows(); ++i)
        for (Eigen::Index j = 0; j < b.cols(); ++j) {
          double want = 0;
          for (Eigen::Index l = 0; l < a.cols(); ++l)
            want += static_cast<double>(a(i, l)) * static_cast<double>(b(l, j));
          err = std::max(err, std::fabs(static_cast<double>(got(i, j)) - want));
          scale = std::max(scale, std::fabs(want));
        }
      out.push_back({"gemm_fp32_5x17x33", "Eigen", scale > 0 ? err / scale : err, 1e-5, ""});
    }
    {
      const long long ctx = 40, d = 16;
      const Mat k = Mat::Random(ctx, d), v = Mat::Random(ctx, d);
      const Eigen::RowVectorXf q = Eigen::RowVectorXf::Random(d) * 3;
      std::vector<float> got(static_cast<std::size_t>(d));
      attend(q.data(), k, v, ctx, got.data(), d);
      std::vector<double> s(static_cast<std::size_t>(ctx));
      double mx = -1e300, sum = 0, err = 0, scale = 0;
      for (long long j = 0; j < ctx; ++j) {
        double dot = 0;
        for (long long e = 0; e < d; ++e) dot += static_cast<double>(q(e)) * static_cast<double>(k(j, e));
        s[static_cast<std::size_t>(j)] = dot / std::sqrt(static_cast<double>(d));
        mx = std::max(mx, s[static_cast<std::size_t>(j)]);
      }
      for (auto &x : s) sum += (x = std::exp(x - mx));
      for (long long e = 0; e < d; ++e) {
        double want = 0;
        for (long long j = 0; j < ctx; ++j) want += s[static_cast<std::size_t>(j)] / sum * static_cast<double>(v(j, e));
        err = std::max(err, std::fabs(static_cast<double>(got[static_cast<std::size_t>(e)]) - want));
        scale = std::max(scale, std::fabs(want));
      }
      out.push_back({"attention_d16_ctx40", "rooftop reference (Eigen)", scale > 0 ? err / scale : err, 1e-4, ""});
    }
    return out;
  }

private:
  static Measurement launch(const Case &c, const StopRule &rule) {
    if (c.hidden <= 0) return sample_case(c, rule, [] { return timed([] { noop(); }); });
    Eigen::RowVectorXf x = Eigen::RowVectorXf::Random(c.hidden), y(c.hidden);
    return sample_case(c, rule, [&] {
      return timed([&] {
        y = x / std::sqrt(x.squaredNorm() / static_cast<float>(c.hidden) + 1e-6f);
        noop();
      });
    });
  }

  static void noop() { asm volatile("" ::: "memory"); }

  static Measurement gemm(const Case &c, const StopRule &rule) {
    if (c.dtype == DType::fp8 || c.dtype == DType::fp4 || c.dtype == DType::int8)
      return skipped(c, "the CPU backend has no " + to_string(c.dtype) + " GEMM");
    // The CPU computes BF16/FP16 cases in FP32 (Eigen); the case still declares its dtype.
    Mat a = Mat::Random(c.m, c.k), b = Mat::Random(c.k, c.n), out(c.m, c.n);
    return sample_case(c, rule, [&] { return timed([&] { out.noalias() = a * b; }); });
  }

  static Measurement stream(const Case &c, const StopRule &rule) {
    const auto n = static_cast<std::size_t>(c.bytes / 4);
    std::vector<float> a(n, 1.0f), b(n, 2.0f), x(n, 3.0f);
    volatile float sink = 0;
    auto body = [&] {
      switch (c.stream) {
      case StreamKind::read: { // eight independent sums, so the loop is not one add chain
        float s[8] = {};
        std::size_t i = 0;
        for (; i + 8 <= n; i += 8)
          for (std::size_t j = 0; j < 8; ++j) s[j] += a[i + j];
        for (; i < n; ++i) s[0] += a[i];
        sink = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
        break;
      }
      case StreamKind::write:
        std::fill(a.begin(), a.end(), 4.0f);
        break;
      case StreamKind::copy:
        std::copy(b.begin(), b.end(), a.begin());
        break;
      case StreamKind::triad:
        for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + 3.0f * x[i];
        break;
      }
    };
    auto m = sample_case(c, rule, [&] { return timed(body); });
    (void)sink;
    return m;
  }

  static Measurement decode(const Case &c, const StopRule &rule) {
    const long long dk = c.latent_dim > 0 ? c.latent_dim : c.head_dim;
    const long long kvh = c.latent_dim > 0 ? 1 : c.kv_heads;
    std::vector<Mat> k, v;
    for (long long i = 0; i < c.batch * kvh; ++i) {
      k.push_back(Mat::Random(c.context, dk));
      v.push_back(Mat::Random(c.context, dk));
    }
    Mat q = Mat::Random(c.batch * c.q_heads, dk), o(c.batch * c.q_heads, dk);
    const long long group = c.q_heads / kvh;
    return sample_case(c, rule, [&] {
      return timed([&] {
        for (long long b = 0; b < c.batch; ++b)
          for (long long h = 0; h < c.q_heads; ++h) {
            const auto kv = static_cast<std::size_t>(b * kvh + h / group);
            attend(q.row(b * c.q_heads + h).data(), k[kv], v[kv], c.context,
                   o.row(b * c.q_heads + h).data(), dk);
          }
      });
    });
  }

  static Measurement prefill(const Case &c, const StopRule &rule) {
    Mat q = Mat::Random(c.context, c.head_dim), k = Mat::Random(c.context, c.head_dim),
        v = Mat::Random(c.context, c.head_dim), o(c.context, c.head_dim);
    return sample_case(c, rule, [&] {
      return timed([&] {
        for (long long h = 0; h < c.batch * c.q_heads; ++h)
          for (long long i = 0; i < c.context; ++i) // causal: query i sees keys 0..i
            attend(q.row(i).data(), k, v, i + 1, o.row(i).data(), c.head_dim);
      });
    });
  }

  static Measurement layer(const Case &c, const StopRule &rule) {
    const long long h = c.hidden, hq = c.q_heads, hkv = c.kv_heads, d = c.head_dim,
                    inter = c.intermediate, b = c.batch;
    if (h <= 0 || hq <= 0 || hkv <= 0 || d <= 0 || inter <= 0)
      return skipped(c, "layer dimensions missing (declare_work fills them)");
    Mat x = Mat::Random(b, h), wqkv = Mat::Random(h, (hq + 2 * hkv) * d), wo = Mat::Random(hq * d, h),
        wup = Mat::Random(h, 2 * inter), wdown = Mat::Random(inter, h);
    std::vector<Mat> kc, vc;
    for (long long i = 0; i < b * hkv; ++i) {
      kc.push_back(Mat::Random(c.context + 1, d));
      vc.push_back(Mat::Random(c.context + 1, d));
    }
    Mat qkv(b, (hq + 2 * hkv) * d), att(b, hq * d), up(b, 2 * inter), act(b, inter), y(b, h);
    return sample_case(c, rule, [&] {
      return timed([&] {
        Mat n = x.array().colwise() / (x.array().square().rowwise().mean() + 1e-6f).sqrt();
        qkv.noalias() = n * wqkv;
        for (long long s = 0; s < b; ++s)
          for (long long hh = 0; hh < hq; ++hh) {
            const auto kv = static_cast<std::size_t>(s * hkv + hh / (hq / hkv));
            attend(qkv.row(s).data() + hh * d, kc[kv], vc[kv], c.context + 1,
                   att.row(s).data() + hh * d, d);
          }
        y.noalias() = att * wo;
        Mat n2 = y.array().colwise() / (y.array().square().rowwise().mean() + 1e-6f).sqrt();
        up.noalias() = n2 * wup;
        act = up.leftCols(inter).array() / (1 + (-up.leftCols(inter).array()).exp()) *
              up.rightCols(inter).array();
        y.noalias() = act * wdown;
      });
    });
  }
};

} // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

} // namespace rooftop::cal
