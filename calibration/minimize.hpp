// Derivative-free minimisation for fits whose model is not linear in its parameters (a GEMM's
// time is a max() of a compute and a memory term): Nelder-Mead's simplex method.
#pragma once

#include <functional>
#include <vector>

namespace rooftop::cal {

struct Minimum {
  std::vector<double> x; ///< the best point found
  double value = 0;      ///< f(x)
  int evaluations = 0;
};

/// Minimises f from x0 by the Nelder-Mead simplex (reflection 1, expansion 2, contraction 1/2,
/// shrink 1/2; Nelder and Mead, Computer Journal 7, 1965), the first simplex x0 plus `step`
/// along each coordinate. Stops when the simplex's values agree to `f_tol` (absolute) or after
/// `max_evaluations`, then restarts once from the best point (a simplex can collapse before a
/// minimum); deterministic. The returned value is never above f(x0).
Minimum nelder_mead(const std::function<double(const std::vector<double> &)> &f,
                    const std::vector<double> &x0, double step = 0.5, double f_tol = 1e-12,
                    int max_evaluations = 4000);

} // namespace rooftop::cal
