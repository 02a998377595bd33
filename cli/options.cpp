// Command-line rules shared by every subcommand (cli/options.hpp).
#include "cli/options.hpp"

#include "cli/commands.hpp"
#include "core/errors.hpp"

#include <fmt/format.h>

namespace rooftop::cli {
namespace {

/// What an allow_no_value() option holds when given without a value. argv strings end at their
/// first NUL, so no value a user types can equal it.
const std::string k_no_value{"\0(no value)", 11};

/// "rooftop validate" for the subcommand `app` (its parents first).
std::string command_path(const CLI::App &app) {
  const CLI::App *parent = app.get_parent();
  if (!parent) return "rooftop";
  return command_path(*parent) + " " + app.get_name();
}

} // namespace

void refuse_empty_values(CLI::App &app) {
  for (CLI::Option *opt : app.get_options()) {
    if (opt->get_type_size() == 0 || opt->get_expected_min() == 0) continue; // flags, optional
    const std::string name = opt->get_name();
    const std::string hint = opt->get_required() ? "give a value" : "give a value, or leave the "
                                                                     "option out";
    const std::string help = command_path(app) + " --help";
    // CLI11 runs validators on each value given; an empty one would otherwise mean "not given".
    opt->check(CLI::Validator(
        [name, hint, help](std::string &value) -> std::string {
          if (value.empty()) throw InputError(name + " is empty: " + hint + " (" + help + ")");
          return {};
        },
        ""));
  }
  for (CLI::App *sub : app.get_subcommands({})) refuse_empty_values(*sub);
}

CLI::Option *allow_no_value(CLI::Option *opt, const std::string &text) {
  return opt->expected(0, 1)->default_str(k_no_value)->option_text(text);
}

std::string optional_value(const CLI::Option &opt, const std::string &value,
                           const std::filesystem::path &fallback) {
  // CLI11 reads `--serving=` as `--serving` alone: tell them apart on the command line itself.
  if (opt.count() == 0) return fallback.string();
  bool given_empty = value.empty();
  for (const auto &arg : cli_argv()) {
    if (arg == "--") break;
    given_empty = given_empty || arg == opt.get_name() + "=";
  }
  if (!given_empty && value == k_no_value) return fallback.string();
  if (given_empty)
    throw InputError(opt.get_name() + " is empty: give a file, or " + opt.get_name() +
                     " alone for " + fallback.string());
  return value;
}

Seconds latency_objective(const std::string &option, double seconds) {
  // Past 1e6 s the objective means nothing and prints as hundreds of digits (1e300); below 1 us
  // no step of any model meets it and it prints as "0.00 us" (1e-320).
  if (!(seconds >= k_min_latency_objective_s && seconds <= k_max_latency_objective_s)) // and nan
    throw InputError(fmt::format("{} = {:g}: must be a time in [1e-6, 1e6] s", option, seconds));
  return Seconds(seconds);
}

} // namespace rooftop::cli
