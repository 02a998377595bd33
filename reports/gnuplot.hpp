// Running gnuplot as a subprocess, and making its SVG output safe to inline in HTML.
#pragma once

#include "core/errors.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rooftop::rep {

/// gnuplot absent or failing: a missing backend to the CLI (exit 3, one `error:` line with
/// gnuplot's own message), not a bug in rooftop.
class GnuplotError : public NotCompiled {
public:
  using NotCompiled::NotCompiled;
};

/// The gnuplot executable on $PATH, or nullopt.
std::optional<std::filesystem::path> find_gnuplot();

/// Runs `gnuplot script...` in `dir` with LC_ALL=C, its output in dir/gnuplot.log. Throws
/// NotCompiled when gnuplot is not on $PATH, InputError when dir/gnuplot.log cannot be written,
/// and GnuplotError (with gnuplot's error lines, on one line) when it fails.
void run_gnuplot(const std::filesystem::path &dir, const std::vector<std::string> &scripts);

/// A gnuplot SVG made fit to inline in HTML: the XML prolog dropped, and every id (and each
/// reference to it: '#id', "#id", url(#id)) prefixed with `prefix` so that several plots can
/// share one page. Throws InternalError when the text holds no <svg element.
std::string inline_svg(const std::string &svg, const std::string &prefix);

/// `s` as a gnuplot double-quoted string literal (\\, \" and \n escaped).
std::string gp_quote(const std::string &s);

} // namespace rooftop::rep
