// Nelder-Mead simplex minimisation.
#include "calibration/minimize.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace rooftop::cal {
namespace {

Minimum one_run(const std::function<double(const std::vector<double> &)> &f,
                const std::vector<double> &x0, double step, double f_tol, int max_evaluations) {
  const std::size_t n = x0.size();
  std::vector<std::vector<double>> p(n + 1, x0);
  std::vector<double> v(n + 1);
  int evals = 0;
  const auto eval = [&](const std::vector<double> &x) {
    ++evals;
    const double y = f(x);
    return std::isfinite(y) ? y : std::numeric_limits<double>::infinity();
  };
  for (std::size_t i = 0; i < n; ++i) p[i + 1][i] += step;
  for (std::size_t i = 0; i <= n; ++i) v[i] = eval(p[i]);
  std::vector<std::size_t> order(n + 1);
  const auto point = [&](const std::vector<double> &c, const std::vector<double> &w, double t) {
    std::vector<double> x(n);
    for (std::size_t j = 0; j < n; ++j) x[j] = c[j] + t * (w[j] - c[j]);
    return x;
  };
  while (evals < max_evaluations) {
    std::iota(order.begin(), order.end(), 0);
    // Ties broken by index: the same simplex always orders the same way.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    const std::size_t best = order.front(), worst = order.back(), second = order[n - 1];
    if (std::fabs(v[worst] - v[best]) <= f_tol) break;
    std::vector<double> c(n, 0.0); // centroid of all but the worst
    for (std::size_t i = 0; i <= n; ++i)
      if (i != worst)
        for (std::size_t j = 0; j < n; ++j) c[j] += p[i][j] / static_cast<double>(n);
    const auto xr = point(c, p[worst], -1.0);
    const double vr = eval(xr);
    if (vr < v[best]) {
      const auto xe = point(c, p[worst], -2.0);
      const double ve = eval(xe);
      if (ve < vr) {
        p[worst] = xe;
        v[worst] = ve;
      } else {
        p[worst] = xr;
        v[worst] = vr;
      }
      continue;
    }
    if (vr < v[second]) {
      p[worst] = xr;
      v[worst] = vr;
      continue;
    }
    // Contract: outside (towards the reflected point) when it beat the worst, else inside.
    const bool outside = vr < v[worst];
    const auto xc = point(c, outside ? xr : p[worst], 0.5);
    const double vc = eval(xc);
    if (vc < (outside ? vr : v[worst])) {
      p[worst] = xc;
      v[worst] = vc;
      continue;
    }
    for (std::size_t i = 0; i <= n; ++i) // shrink towards the best
      if (i != best) {
        p[i] = point(p[best], p[i], 0.5);
        v[i] = eval(p[i]);
      }
  }
  const auto it = std::min_element(v.begin(), v.end());
  return {p[static_cast<std::size_t>(it - v.begin())], *it, evals};
}

} // namespace

Minimum nelder_mead(const std::function<double(const std::vector<double> &)> &f,
                    const std::vector<double> &x0, double step, double f_tol,
                    int max_evaluations) {
  if (x0.empty()) throw InternalError("nelder_mead: no parameters");
  Minimum m = one_run(f, x0, step, f_tol, max_evaluations);
  const Minimum again = one_run(f, m.x, step / 4, f_tol, max_evaluations);
  const int evals = m.evaluations + again.evaluations;
  if (again.value < m.value) m = again;
  m.evaluations = evals;
  return m;
}

} // namespace rooftop::cal
