// Registration of the `rooftop` subcommands. Each subcommand lives in its own file.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace rooftop::cli {

/// Exit status a subcommand asks main to return (0 = success).
int &exit_status();

void add_hw(CLI::App &app);
void add_model(CLI::App &app);
void add_estimate(CLI::App &app);
void add_report(CLI::App &app);
void add_collective(CLI::App &app);
void add_validate(CLI::App &app);
void add_calibrate(CLI::App &app);
void add_serve(CLI::App &app);
void add_plan(CLI::App &app);

/// The command line as given (for provenance in files rooftop writes).
std::vector<std::string> &cli_argv();

} // namespace rooftop::cli
