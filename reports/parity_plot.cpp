// Predicted versus reference, through gnuplot.
#include "reports/parity_plot.hpp"

#include "core/errors.hpp"
#include "reports/gnuplot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <cstdlib>
#include <system_error>
#include <unistd.h>

namespace rooftop::rep {

void write_parity_plot(const std::filesystem::path &png, const ParityPlot &plot_spec) {
  namespace fs = std::filesystem;
  if (fs::is_directory(png))
    throw InputError("--png " + png.string() + ": is a directory; give the PNG file to write");
  const fs::path out_dir = fs::absolute(png).parent_path();
  if (!fs::is_directory(out_dir) || ::access(out_dir.c_str(), W_OK) != 0)
    throw InputError("--png " + png.string() + ": " + out_dir.string() +
                     " is not a writable directory");
  std::map<std::string, std::vector<const ParityPoint *>> by;
  double lo = 1e300, hi = 0;
  for (const auto &p : plot_spec.points) {
    if (!(p.reference > 0) || !(p.predicted > 0)) continue; // a log-log plot
    by[p.group].push_back(&p);
    lo = std::min({lo, p.reference, p.predicted});
    hi = std::max({hi, p.reference, p.predicted});
  }
  if (by.empty()) throw InputError("--png " + png.string() + ": nothing to plot");
  // A private scratch directory (mkdtemp: not a predictable name), removed however this ends.
  std::string tmpl = (fs::temp_directory_path() / "rooftop-cal-plot-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw InputError("cannot create a scratch directory under " + fs::temp_directory_path().string());
  const fs::path dir = tmpl;
  struct Cleanup {
    fs::path d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};
  std::string plot;
  int i = 0;
  for (const auto &[group, list] : by) {
    const std::string data = (dir / (std::to_string(i) + ".dat")).string(); // any group name
    std::ofstream out(data);
    for (const auto *p : list)
      out << fmt::format("{:.17g} {:.17g} {}\n", p->reference, p->predicted, p->filled ? 1 : 0);
    plot += fmt::format("{}{} using 1:($3 > 0 ? $2 : 1/0) with points pt 7 ps 1.2 lc {} title {}, "
                        "{} using 1:($3 > 0 ? 1/0 : $2) with points pt 6 ps 1.0 lc {} notitle",
                        plot.empty() ? "" : ", ", gp_quote(data), i + 1, gp_quote(group),
                        gp_quote(data), i + 1);
    ++i;
  }
  if (!plot_spec.filled_means.empty())
    plot += ", 1/0 with points pt 6 ps 1.0 lc 'black' title " +
            gp_quote("filled: " + plot_spec.filled_means + "; hollow: " + plot_spec.hollow_means);
  lo = lo / 2;
  hi = hi * 2;
  std::ofstream gp(dir / "plot.gp");
  gp << "set terminal pngcairo size 900,700 font 'DejaVu Sans,11' noenhanced\n"
     << "set format x '%.0e'\nset format y '%.0e'\n"
     << "set output " << gp_quote(fs::absolute(png).string()) << "\n"
     << "set title " << gp_quote(plot_spec.title) << "\n"
     << "set logscale xy\nset grid\nset key " << plot_spec.key << " box opaque\n"
     << "set xlabel " << gp_quote(plot_spec.x_label) << "\nset ylabel "
     << gp_quote(plot_spec.y_label) << "\n"
     << fmt::format("set xrange [{}:{}]\nset yrange [{}:{}]\n", lo, hi, lo, hi)
     << fmt::format("plot x title 'rooftop = reference' lc 'black', {0}*x title '+-{2:.0f}%' dt 2 "
                    "lc 'gray', {1}*x notitle dt 2 lc 'gray', ",
                    1 + plot_spec.band, 1 - plot_spec.band, 100 * plot_spec.band)
     << plot << "\n";
  gp.close();
  run_gnuplot(dir, {"plot.gp"});
}

} // namespace rooftop::rep
