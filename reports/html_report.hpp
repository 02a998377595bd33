// report.html: one self-contained page (inline CSS and SVG plots) rendered from the mustache
// templates of reports/templates/ (embedded in the binary at build time).
#pragma once

#include "reports/estimate_report.hpp"
#include "reports/plot_data.hpp"

#include <string>
#include <vector>

namespace rooftop::rep {

/// Renders the embedded template `name` (e.g. "report.html") with a JSON object as its data
/// (objects, arrays, strings, numbers and booleans map to mustache contexts). Throws
/// InternalError for an unknown template or a template error.
std::string render_template(const std::string &name, const nlohmann::json &data);

/// The data report.html is rendered from: inputs, key figures, one entry per figure (with the
/// tables behind it) and the sources of the efficiencies and GPU figures. `svgs`: the inline
/// SVG of each plot in plot_scripts() order (roofline, breakdown, batch sweep, memory).
/// `command`: a command line that reproduces the report. `cluster`: the run's cluster (nullptr:
/// the GPU's usual system; the system and node count come from `e` either way). Paths inside
/// the data directory are shown relative to it (data_relative), except in `command`.
nlohmann::json report_context(const EstimateInputs &in, const sim::Estimate &e,
                              const sim::EstimateOptions &o, const PlotData &p,
                              const std::vector<std::string> &svgs, const std::string &command,
                              const hw::Cluster *cluster = nullptr);

/// report.html for these inputs (render_template("report.html", report_context(...))).
std::string report_html(const EstimateInputs &in, const sim::Estimate &e,
                        const sim::EstimateOptions &o, const PlotData &p,
                        const std::vector<std::string> &svgs, const std::string &command,
                        const hw::Cluster *cluster = nullptr);

} // namespace rooftop::rep
