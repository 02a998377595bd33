// Fitting a serving engine's measured all-reduce (published measurements) into the piecewise
// alpha-beta curves of hw::AllReduceCurves, with every other size held out.
#pragma once

#include "calibration/plan.hpp"
#include "hwmodels/allreduce_curve.hpp"

#include <string>
#include <vector>

namespace rooftop::cal {

/// Whether all_reduce measurement `index` of `all` is held out: among the usable all_reduce
/// measurements of its system and group size ordered by size, the 2nd, 4th, ... but never the
/// largest, so every held-out size lies between two fitted ones (the curve interpolates it).
bool all_reduce_held_out(const std::vector<Measurement> &all, std::size_t index);

/// The curves through the fitted all_reduce measurements (one point per size; repeated sizes
/// averaged; an interior point over twice as slow as both its neighbours left out, with a
/// note), by group size. Empty, with a note, when there are none, when they span several
/// systems, or when their system's scale-up domain is not an NVSwitch (the model applies the
/// curves only there). A group size with fewer than two sizes is left out, with a note.
hw::AllReduceCurves fit_allreduce(const std::vector<const Measurement *> &train,
                                  std::vector<std::string> &notes);

} // namespace rooftop::cal
