// The tables of report.html, as JSON for the mustache template (text already scaled for people).
#pragma once

#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "reports/plot_data.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace rooftop::rep {

/// One row per efficiency field: {key, value, source}; the source is the per-architecture entry
/// of the efficiency file where it has one, else the default's.
nlohmann::json efficiency_table(const hw::Efficiency &e, const hw::GpuSpec &gpu);
/// The GPU figures the roofline and memory plots use: {key, value, source}.
nlohmann::json gpu_figure_table(const hw::GpuSpec &gpu);
/// One entry per plot: {name, title, caption, svg, tables: [{heading, header, rows, note}]}.
/// `svgs` in plot_scripts() order; missing ones render as empty figures.
nlohmann::json figure_entries(const PlotData &p, const std::vector<std::string> &svgs);

} // namespace rooftop::rep
