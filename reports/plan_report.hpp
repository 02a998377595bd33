// Output of `rooftop plan`: the candidates' table as text and the rooftop.plan/1 JSON object.
#pragma once

#include "sim/planner.hpp"
#include "workloads/model_spec.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace rooftop::rep {

/// The rooftop.plan/1 object (docs/schemas.md).
nlohmann::ordered_json plan_json(const wl::ModelSpec &m, const sim::PlanTarget &t,
                                 const sim::SchedulerConfig &cfg,
                                 const std::vector<sim::PlanRow> &rows);
/// The load, the objective and one line per candidate, best first.
std::string plan_text(const wl::ModelSpec &m, const sim::PlanTarget &t,
                      const std::vector<sim::PlanRow> &rows);

} // namespace rooftop::rep
