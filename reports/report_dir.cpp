// The report directory.
#include "reports/report_dir.hpp"

#include "core/errors.hpp"
#include "reports/gnuplot.hpp"
#include "reports/html_report.hpp"
#include "reports/plots.hpp"

#include <fstream>
#include <system_error>

namespace rooftop::rep {

ReportFiles write_report(const std::filesystem::path &dir, const EstimateInputs &in,
                         const sim::Estimate &e, const sim::EstimateOptions &o,
                         const std::string &command) {
  if (!find_gnuplot())
    throw NotCompiled("gnuplot not found on PATH: `rooftop report` draws its plots with gnuplot "
                      "(Debian: apt-get install gnuplot-nox)");
  std::error_code ec;
  std::filesystem::create_directories(dir / "gnuplot", ec);
  if (ec) throw InputError("--out " + dir.string() + ": cannot create directory: " + ec.message());
  const PlotData data = plot_data(in.gpu, in.model, in.deployment, in.efficiency, o, e);
  const auto plots = plot_scripts(data, in.gpu.name);
  const auto svgs = draw_plots(plots, dir / "gnuplot");
  ReportFiles f;
  f.html = dir / "report.html";
  std::ofstream out(f.html);
  out << report_html(in, e, o, data, svgs, command);
  if (!out) throw InputError(f.html.string() + ": cannot write");
  for (const auto &p : plots) f.pngs.push_back(dir / (p.name + ".png"));
  return f;
}

} // namespace rooftop::rep
