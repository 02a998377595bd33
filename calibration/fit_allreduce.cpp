// All-reduce curves from published measurements.
#include "calibration/fit_allreduce.hpp"

#include "hwmodels/system.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace rooftop::cal {

bool all_reduce_held_out(const std::vector<Measurement> &all, std::size_t index) {
  const Case &c = all[index].c;
  std::set<double> sizes; // the distinct sizes of its system and group size
  for (const auto &m : all)
    if (m.c.kind == CaseKind::all_reduce && !m.skipped && m.median_s > 0 &&
        m.c.system == c.system && m.c.ranks == c.ranks)
      sizes.insert(m.c.bytes);
  const auto it = sizes.find(c.bytes);
  if (it == sizes.end()) return false;
  const auto pos = std::distance(sizes.begin(), it);
  return pos % 2 == 1 && std::next(it) != sizes.end();
}

namespace {

/// Drops the interior points that took more than twice as long as both neighbours (a size
/// whose one published time is a glitch: A100, 8 GPUs, 14.8 us at 4 KiB between 5.8 us at 1
/// KiB and 6.5 us at 16 KiB), naming each in the notes: the curve would carry it to every size
/// around it.
void drop_spikes(hw::AllReduceCurve &c, long long ranks, std::vector<std::string> &notes) {
  constexpr double k_spike = 2.0;
  for (std::size_t i = 1; i + 1 < c.bytes.size();) {
    if (c.time_s[i] > k_spike * std::max(c.time_s[i - 1], c.time_s[i + 1])) {
      char t[32];
      std::snprintf(t, sizeof t, "%.3g", c.time_s[i]);
      notes.push_back("all-reduce over " + std::to_string(ranks) + " GPUs: " +
                      std::to_string(static_cast<long long>(c.bytes[i])) + " bytes took " + t +
                      " s, over twice both neighbours; left out");
      c.bytes.erase(c.bytes.begin() + static_cast<std::ptrdiff_t>(i));
      c.time_s.erase(c.time_s.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

} // namespace

hw::AllReduceCurves fit_allreduce(const std::vector<const Measurement *> &train,
                                  std::vector<std::string> &notes) {
  std::vector<const Measurement *> ar;
  for (const auto *m : train)
    if (m->c.kind == CaseKind::all_reduce) ar.push_back(m);
  if (ar.empty()) return {};
  const std::string system = ar.front()->c.system;
  if (std::any_of(ar.begin(), ar.end(), [&](const Measurement *m) { return m->c.system != system; })) {
    notes.push_back("all-reduce: cases from several systems; no curve fitted (one system per file)");
    return {};
  }
  const auto &s = hw::SystemCatalogue::builtin().get(system);
  if (s.topology != hw::Topology::nvswitch) {
    notes.push_back("all-reduce: " + system + " has no NVSwitch domain; no curve fitted (the model "
                    "applies measured all-reduces only inside NVSwitch domains)");
    return {};
  }
  hw::AllReduceCurves out;
  out.scale_up_link = s.scale_up_link.id;
  out.implementation = ar.front()->implementation;
  // ranks -> size -> times
  std::map<long long, std::map<double, std::vector<double>>> points;
  for (const auto *m : ar) points[m->c.ranks][m->c.bytes].push_back(m->median_s);
  for (const auto &[ranks, by_size] : points) {
    if (by_size.size() < 2) {
      notes.push_back("all-reduce over " + std::to_string(ranks) +
                      " GPUs: one size only; no curve (NCCL's model is used)");
      continue;
    }
    hw::AllReduceCurve curve;
    for (const auto &[bytes, ts] : by_size) {
      double sum = 0;
      for (double t : ts) sum += t;
      curve.bytes.push_back(bytes);
      curve.time_s.push_back(sum / static_cast<double>(ts.size()));
    }
    drop_spikes(curve, ranks, notes);
    out.by_ranks[ranks] = curve;
  }
  if (!out.empty())
    notes.push_back("all-reduce: measured curves over " + std::to_string(out.by_ranks.size()) +
                    " group size(s) of " + system + " (" + out.scale_up_link + ", " +
                    (out.implementation.empty() ? std::string("implementation not named")
                                                : out.implementation) +
                    ") replace NCCL's model for all-reduces of those sizes in one such domain");
  return out;
}

} // namespace rooftop::cal
