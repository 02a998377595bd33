// rooftop: roofline performance model of LLM inference on NVIDIA GPUs. The one place that maps
// exceptions to exit codes: 2 input or usage, 3 not supported or not compiled, 1 internal.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/errors.hpp"
#include "reports/format.hpp"

#include <iostream>

namespace rooftop::cli {
int &exit_status() {
  static int s = 0;
  return s;
}
std::vector<std::string> &cli_argv() {
  static std::vector<std::string> v;
  return v;
}
} // namespace rooftop::cli

int main(int argc, char **argv) {
  CLI::App app{"rooftop: roofline performance model of LLM inference on NVIDIA GPUs"};
  app.set_version_flag("--version", "rooftop " + rooftop::rep::version() + " (" +
                                        rooftop::rep::git_sha() + ")");
  app.require_subcommand(1);
  for (int i = 0; i < argc; ++i) rooftop::cli::cli_argv().emplace_back(argv[i]);
  rooftop::cli::add_hw(app);
  rooftop::cli::add_model(app);
  rooftop::cli::add_estimate(app);
  rooftop::cli::add_serve(app);
  rooftop::cli::add_plan(app);
  rooftop::cli::add_report(app);
  rooftop::cli::add_collective(app);
  rooftop::cli::add_validate(app);
  rooftop::cli::add_calibrate(app);
  rooftop::cli::refuse_empty_values(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == 0) return app.exit(e); // --help, --version
    std::cerr << "error: " << e.what() << " (run with --help for usage)\n";
    return 2;
  } catch (const rooftop::InputError &e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const rooftop::NotSupported &e) {
    std::cerr << "error: not supported: " << e.what() << "\n";
    return 3;
  } catch (const rooftop::NotCompiled &e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  } catch (const std::exception &e) {
    std::cerr << "error: internal: " << e.what() << "\n";
    return 1;
  }
  return rooftop::cli::exit_status();
}
