// Strong SI unit types: seconds, bytes, FLOP and their rates. Only meaningful operators exist.
#pragma once

#include <algorithm>
#include <compare>

namespace rooftop {

/// A quantity of type Tag held as a double in SI base units.
template <class Tag> class Quantity {
public:
  constexpr Quantity() = default;
  constexpr explicit Quantity(double v) : v_(v) {}
  /// The value in SI base units (seconds, bytes, FLOP, bytes/s, FLOP/s, Hz).
  [[nodiscard]] constexpr double value() const { return v_; }

  constexpr Quantity &operator+=(Quantity o) { v_ += o.v_; return *this; }
  constexpr Quantity &operator-=(Quantity o) { v_ -= o.v_; return *this; }
  friend constexpr Quantity operator+(Quantity a, Quantity b) { return Quantity(a.v_ + b.v_); }
  friend constexpr Quantity operator-(Quantity a, Quantity b) { return Quantity(a.v_ - b.v_); }
  friend constexpr Quantity operator*(Quantity a, double k) { return Quantity(a.v_ * k); }
  friend constexpr Quantity operator*(double k, Quantity a) { return Quantity(a.v_ * k); }
  friend constexpr Quantity operator/(Quantity a, double k) { return Quantity(a.v_ / k); }
  /// Ratio of two like quantities (dimensionless).
  friend constexpr double operator/(Quantity a, Quantity b) { return a.v_ / b.v_; }
  friend constexpr auto operator<=>(Quantity a, Quantity b) = default;

private:
  double v_ = 0.0;
};

struct SecondsTag {};
struct BytesTag {};
struct FlopsTag {};
struct HertzTag {};
struct BytesPerSecondTag {};
struct FlopsPerSecondTag {};

using Seconds = Quantity<SecondsTag>;               ///< time, s
using Bytes = Quantity<BytesTag>;                   ///< data size, bytes
using Flops = Quantity<FlopsTag>;                   ///< work, FLOP
using Hertz = Quantity<HertzTag>;                   ///< frequency, 1/s
using BytesPerSecond = Quantity<BytesPerSecondTag>; ///< bandwidth, bytes/s
using FlopsPerSecond = Quantity<FlopsPerSecondTag>; ///< compute rate, FLOP/s

/// t = B / BW
constexpr Seconds operator/(Bytes b, BytesPerSecond bw) { return Seconds(b.value() / bw.value()); }
/// t = F / P
constexpr Seconds operator/(Flops f, FlopsPerSecond p) { return Seconds(f.value() / p.value()); }
/// BW = B / t
constexpr BytesPerSecond operator/(Bytes b, Seconds t) { return BytesPerSecond(b.value() / t.value()); }
/// P = F / t
constexpr FlopsPerSecond operator/(Flops f, Seconds t) { return FlopsPerSecond(f.value() / t.value()); }
/// Arithmetic intensity I = F / B, FLOP/byte.
constexpr double operator/(Flops f, Bytes b) { return f.value() / b.value(); }
/// Ridge point = P / BW, FLOP/byte.
constexpr double operator/(FlopsPerSecond p, BytesPerSecond bw) { return p.value() / bw.value(); }
/// B = BW * t
constexpr Bytes operator*(BytesPerSecond bw, Seconds t) { return Bytes(bw.value() * t.value()); }
/// F = P * t
constexpr Flops operator*(FlopsPerSecond p, Seconds t) { return Flops(p.value() * t.value()); }

template <class Tag> constexpr Quantity<Tag> max(Quantity<Tag> a, Quantity<Tag> b) {
  return Quantity<Tag>(std::max(a.value(), b.value()));
}
template <class Tag> constexpr Quantity<Tag> min(Quantity<Tag> a, Quantity<Tag> b) {
  return Quantity<Tag>(std::min(a.value(), b.value()));
}

// Explicit prefixes: giga/tera/peta are powers of ten; gib is 2^30 (capacities only).
inline constexpr double kilo = 1e3;
inline constexpr double mega = 1e6;
inline constexpr double giga = 1e9;
inline constexpr double tera = 1e12;
inline constexpr double peta = 1e15;
/// n GiB in bytes (2^30 each).
constexpr Bytes gib(double n) { return Bytes(n * 1073741824.0); }
/// n GB in bytes (1e9 each).
constexpr Bytes gb(double n) { return Bytes(n * giga); }

} // namespace rooftop
