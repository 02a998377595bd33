// Predicted versus measured, through gnuplot.
#include "reports/calibration_plot.hpp"

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

void write_calibration_plot(const std::filesystem::path &png, const std::vector<CalibrationPoint> &pts,
                            const std::string &gpu) {
  namespace fs = std::filesystem;
  const fs::path out_dir = fs::absolute(png).parent_path();
  if (!fs::is_directory(out_dir) || ::access(out_dir.c_str(), W_OK) != 0)
    throw InputError("--png " + png.string() + ": " + out_dir.string() +
                     " is not a writable directory");
  std::map<std::string, std::vector<const CalibrationPoint *>> by;
  double lo = 1e30, hi = 0;
  for (const auto &p : pts) {
    if (!(p.measured_s > 0) || !(p.predicted_s > 0)) continue; // a log-log plot
    by[p.kind].push_back(&p);
    lo = std::min({lo, p.measured_s, p.predicted_s});
    hi = std::max({hi, p.measured_s, p.predicted_s});
  }
  if (by.empty()) throw InputError("--png " + png.string() + ": no measured case to plot");
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
  for (const auto &[kind, list] : by) {
    const std::string data = (dir / (kind + ".dat")).string();
    std::ofstream out(data);
    for (const auto *p : list) out << p->measured_s << " " << p->predicted_s << " " << (p->held_out ? 1 : 0) << "\n";
    plot += fmt::format("{}{} using 1:($3 > 0 ? $2 : 1/0) with points pt 7 ps 1.2 lc {} title {}, "
                        "{} using 1:($3 > 0 ? 1/0 : $2) with points pt 6 ps 1.0 lc {} notitle",
                        plot.empty() ? "" : ", ", gp_quote(data), i + 1, gp_quote(kind + " (filled: held out)"),
                        gp_quote(data), i + 1);
    ++i;
  }
  lo = lo / 2;
  hi = hi * 2;
  std::ofstream gp(dir / "plot.gp");
  gp << "set terminal pngcairo size 900,700 font 'DejaVu Sans,11' noenhanced\n"
     << "set format x '%.0e'\nset format y '%.0e'\n"
     << "set output " << gp_quote(fs::absolute(png).string()) << "\n"
     << "set title " << gp_quote("rooftop predicted vs measured kernel time, " + gpu) << "\n"
     << "set logscale xy\nset grid\nset key top left box opaque\n"
     << "set xlabel 'measured (s)'\nset ylabel 'predicted by rooftop (s)'\n"
     << fmt::format("set xrange [{}:{}]\nset yrange [{}:{}]\n", lo, hi, lo, hi)
     << "plot x title 'predicted = measured' lc 'black', 1.1*x title '+-10%' dt 2 lc 'gray', "
        "0.9*x notitle dt 2 lc 'gray', "
     << plot << "\n";
  gp.close();
  run_gnuplot(dir, {"plot.gp"});
}

} // namespace rooftop::rep
