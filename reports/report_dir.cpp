// The report directory.
#include "reports/report_dir.hpp"

#include "core/errors.hpp"
#include "reports/gnuplot.hpp"
#include "reports/html_report.hpp"
#include "reports/plots.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace rooftop::rep {

namespace {

/// Makes `dir` (and dir/gnuplot) and checks that files can be written in it. Throws InputError
/// naming --out.
void prepare_dir(const std::filesystem::path &dir) {
  namespace fs = std::filesystem;
  if (dir.empty()) throw InputError("--out is empty: give the directory to write the report to");
  const std::string name = "--out " + dir.string();
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw InputError(name + ": exists and is not a directory");
  const bool existed = fs::is_directory(dir, ec);
  fs::create_directories(dir / "gnuplot", ec);
  if (ec)
    throw InputError(name + (existed ? ": cannot write there: " : ": cannot create directory: ") +
                     ec.message());
  // Root ignores permission bits, so try a file rather than asking access(2).
  const auto probe = dir / ".rooftop-write-test";
  errno = 0;
  const bool ok = static_cast<bool>(std::ofstream(probe) << "");
  const int why = errno; // before remove() sets its own
  fs::remove(probe, ec);
  if (!ok)
    throw InputError(name + ": cannot write there" +
                     (why ? std::string(": ") + std::strerror(why) : std::string()));
}

} // namespace

ReportFiles write_report(const std::filesystem::path &dir, const EstimateInputs &in,
                         const sim::Estimate &e, const sim::EstimateOptions &o,
                         const std::string &command, const hw::Cluster *cluster) {
  if (!find_gnuplot())
    throw NotCompiled("gnuplot not found on PATH: `rooftop report` draws its plots with gnuplot "
                      "(Debian: apt-get install gnuplot-nox)");
  prepare_dir(dir);
  const PlotData data = plot_data(in.gpu, in.model, in.deployment, in.efficiency, o, e, cluster);
  const auto plots = plot_scripts(data, in.gpu.name);
  const auto svgs = draw_plots(plots, dir / "gnuplot");
  ReportFiles f;
  f.html = dir / "report.html";
  std::ofstream out(f.html);
  out << report_html(in, e, o, data, svgs, command, cluster);
  if (!out) throw InputError(f.html.string() + ": cannot write");
  for (const auto &p : plots) f.pngs.push_back(dir / (p.name + ".png"));
  return f;
}

} // namespace rooftop::rep
