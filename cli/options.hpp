// Command-line rules shared by every subcommand: an option given an empty value is an input
// error, and an option whose value is optional tells "no value" from an empty one.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

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

} // namespace rooftop::cli
