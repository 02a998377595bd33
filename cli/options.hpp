// Command-line rules shared by every subcommand: an option given an empty value is an input
// error, and an option whose value is optional tells "no value" from an empty one.
#pragma once

#include "core/units.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <filesystem>
#include <string>
#include <type_traits>

namespace rooftop::cli {

/// Makes every option of `app` and its subcommands that takes a value refuse an empty one
/// (`--png ''`, `--out=`) with an InputError naming the option, instead of treating it as not
/// given. Options whose value is optional (expected(0, 1)) are left to optional_value().
void refuse_empty_values(CLI::App &app);

/// Declares `opt` as taking an optional value (`--serving` or `--serving FILE`), shown as
/// `text` in --help. Read it with optional_value().
CLI::Option *allow_no_value(CLI::Option *opt, const std::string &text);

/// The value of an allow_no_value() option: `fallback` when the option was given without a
/// value or not at all, else `value`. Throws InputError naming the option when it was given an
/// empty value (`--serving ''` or `--serving=`), which CLI11 would otherwise read as no value.
std::string optional_value(const CLI::Option &opt, const std::string &value,
                           const std::filesystem::path &fallback);

/// The largest latency objective (--slo-ttft, --slo-tpot) accepted, s: 11.6 days, far past any
/// serving objective, and below the simulator's 1e8 s clock.
inline constexpr double k_min_latency_objective_s = 1e-6;
inline constexpr double k_max_latency_objective_s = 1e6;

/// A latency objective `seconds` given as `option`, in [k_min_latency_objective_s, k_max_latency_objective_s]; throws
/// InputError naming the option, the value and that range otherwise (0, -1, nan, inf, 1e300).
Seconds latency_objective(const std::string &option, double seconds);

/// Refuses an integer CLI11 would wrap or saturate: "-1" for an unsigned option (2^64 - 1), or
/// a value past the type's range (clamped to its maximum). The range checks come later.
template <class T> CLI::Validator exact_integer() {
  return CLI::Validator(
      [](std::string &text) -> std::string {
        T v{};
        const char *end = text.data() + text.size();
        const auto [p, ec] = std::from_chars(text.data(), end, v);
        if (ec == std::errc::result_out_of_range) return "out of range: " + text;
        if (ec != std::errc() || p != end)
          return std::is_unsigned_v<T> ? "not an integer >= 0: " + text : "not an integer: " + text;
        return {};
      },
      "INT");
}

} // namespace rooftop::cli
