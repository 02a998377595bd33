// Measured all-reduce curves: interpolation and the rooftop.efficiency/1 "allreduce" object.
#include "hwmodels/allreduce_curve.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace rooftop::hw {

Seconds AllReduceCurve::time(Bytes size) const {
  const double s = size.value();
  const std::size_t n = bytes.size();
  if (n == 0) return Seconds(0);
  if (n == 1 || !(s > bytes.front())) return Seconds(time_s.front()); // (also a NaN size)
  // The segment [i - 1, i] holding s; past the end, the last one.
  const auto it = std::lower_bound(bytes.begin(), bytes.end(), s);
  const std::size_t i = it == bytes.end() ? n - 1 : static_cast<std::size_t>(it - bytes.begin());
  // t = t0 + (S - S0) (t1 - t0) / (S1 - S0): the alpha-beta line through both points.
  const double slope = (time_s[i] - time_s[i - 1]) / (bytes[i] - bytes[i - 1]);
  if (s > bytes.back() && !(slope > 0)) return Seconds(time_s.back() * s / bytes.back());
  return Seconds(time_s[i - 1] + (s - bytes[i - 1]) * slope);
}

std::optional<Seconds> AllReduceCurves::time(long long ranks, Bytes size) const {
  const auto it = by_ranks.find(ranks);
  if (it == by_ranks.end()) return std::nullopt;
  return it->second.time(size);
}

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// One array of numbers at `key`, each in [lo, hi].
std::vector<double> numbers(JsonReader &r, const std::string &key, double lo, double hi,
                            const std::string &unit) {
  const auto &a = r.array(key);
  std::vector<double> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string at = key + "/" + std::to_string(i);
    if (!a[i].is_number()) r.fail(at, "must be a number (" + unit + ")");
    const double v = a[i].get<double>();
    if (!std::isfinite(v) || v < lo || v > hi)
      r.fail(at, "must be in [" + num(lo) + ", " + num(hi) + "] (" + unit + ")");
    out.push_back(v);
  }
  return out;
}

AllReduceCurve read_curve(JsonReader &c) {
  AllReduceCurve curve;
  // The bounds of a calibration file's all_reduce case (calibration_file.cpp), so that any
  // table `calibrate --refit` writes loads.
  curve.bytes = numbers(c, "message_bytes", 1, 1e15, "bytes");
  curve.time_s = numbers(c, "time_s", 1e-12, 3600, "s");
  if (curve.bytes.size() < 2)
    c.fail("message_bytes", "must hold at least two sizes (a curve needs two points)");
  if (curve.time_s.size() != curve.bytes.size())
    c.fail("time_s", "must hold one time per message size (" +
                         std::to_string(curve.bytes.size()) + ")");
  for (std::size_t i = 0; i < curve.bytes.size(); ++i)
    if (std::floor(curve.bytes[i]) != curve.bytes[i])
      c.fail("message_bytes/" + std::to_string(i), "must be a whole number of bytes");
  for (std::size_t i = 1; i < curve.bytes.size(); ++i)
    if (!(curve.bytes[i] > curve.bytes[i - 1]))
      c.fail("message_bytes/" + std::to_string(i), "must be larger than the size before it");
  c.finish();
  return curve;
}

} // namespace

AllReduceCurves read_allreduce_curves(JsonReader &r) {
  AllReduceCurves out;
  out.scale_up_link = r.string("scale_up_link");
  out.implementation = r.string("implementation");
  JsonReader by = r.object("by_ranks");
  for (auto it = by.json().begin(); it != by.json().end(); ++it) {
    const std::string &k = it.key();
    const bool digits = !k.empty() && k.size() < 7 &&
                        std::all_of(k.begin(), k.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    if (!digits || std::stoll(k) < 2 || k.front() == '0')
      by.fail(k, "keys are group sizes: whole numbers >= 2 without leading zeros");
    JsonReader c = by.object(k);
    out.by_ranks[std::stoll(k)] = read_curve(c);
  }
  if (out.by_ranks.empty()) r.fail("by_ranks", "must hold at least one group size");
  by.finish();
  r.finish();
  return out;
}

nlohmann::ordered_json allreduce_curves_json(const AllReduceCurves &c) {
  nlohmann::ordered_json by = nlohmann::ordered_json::object();
  for (const auto &[ranks, curve] : c.by_ranks)
    by[std::to_string(ranks)] = {{"message_bytes", curve.bytes}, {"time_s", curve.time_s}};
  return {{"scale_up_link", c.scale_up_link},
          {"implementation", c.implementation},
          {"by_ranks", by}};
}

} // namespace rooftop::hw
