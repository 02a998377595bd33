// Published end-to-end serving results, predicted by `rooftop estimate` with each row's options.
#include "cli/serving_validation.hpp"

#include "cli/estimate_args.hpp"
#include "core/errors.hpp"
#include "core/json_io.hpp"

#include <algorithm>
#include <set>
#include <sstream>

namespace rooftop::cli {
namespace {

double metric_of(const sim::Estimate &e, const std::string &metric) {
  if (metric == "output_tokens_per_s") return e.output_tokens_per_s;
  if (metric == "output_tokens_per_s_per_gpu") return e.output_tokens_per_s_per_gpu;
  if (metric == "output_tokens_per_s_per_user") return e.output_tokens_per_s_per_user;
  if (metric == "ttft_s") return e.ttft.value();
  if (metric == "tpot_s") return e.tpot.value();
  if (metric == "e2e_latency_s") return e.e2e_latency.value();
  throw InternalError("serving metric '" + metric + "' not handled");
}

std::vector<std::string> split_args(const std::string &args) {
  std::istringstream in(args);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

} // namespace

const std::vector<std::string> &serving_metrics() {
  static const std::vector<std::string> m{"output_tokens_per_s",  "output_tokens_per_s_per_gpu",
                                          "output_tokens_per_s_per_user", "ttft_s", "tpot_s",
                                          "e2e_latency_s"};
  return m;
}

ServingPublished load_serving_published(const std::string &file) {
  const auto j = read_json_file(file);
  JsonReader r(j, file);
  if (r.string("schema") != "rooftop.serving_published/1")
    r.fail("schema", "expected \"rooftop.serving_published/1\"");
  r.ignore({"description"});
  ServingPublished p;
  p.file = file;
  JsonReader sources = r.object("sources");
  for (const auto &[key, value] : sources.json().items()) {
    JsonReader s = sources.object(key);
    p.sources[key] = {s.string("framework"), s.string("citation"), s.string("rooftop_args")};
    s.finish();
  }
  sources.finish();
  const auto &arr = r.array("rows");
  r.finish();
  if (arr.empty()) r.fail("rows", "must hold at least one row");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonReader e(arr[i], file, "/rows/" + std::to_string(i));
    ServingRow row;
    row.id = e.string("id");
    if (row.id.empty()) e.fail("id", "must not be empty (ids name rows in the report)");
    if (!ids.insert(row.id).second) e.fail("id", "duplicate id (ids name rows in the report)");
    row.source = e.string("source");
    if (!p.sources.count(row.source))
      e.fail("source", "not a key of /sources (where this figure was published)");
    row.args = e.string("args");
    if (split_args(row.args).empty()) e.fail("args", "expected the `rooftop estimate` options");
    if (row.args.find_first_of("\"'\\") != std::string::npos)
      e.fail("args", "options are separated by spaces; quotes and backslashes are not read");
    row.metric = e.string("metric");
    const auto &m = serving_metrics();
    if (std::find(m.begin(), m.end(), row.metric) == m.end()) {
      std::string known;
      for (const auto &k : m) known += (known.empty() ? "" : ", ") + k;
      e.fail("metric", "expected one of " + known);
    }
    // bounds: a figure outside them is a typo (and 1e-320 would make the error infinite)
    row.published = e.within("published", e.number("published", Check::positive, row.metric),
                             1e-9, 1e12, row.metric);
    e.finish();
    p.rows.push_back(row);
  }
  return p;
}

std::vector<ServingComparison> compare_serving(const ServingPublished &p, const std::string &engine) {
  std::vector<ServingComparison> out;
  out.reserve(p.rows.size());
  for (std::size_t i = 0; i < p.rows.size(); ++i) {
    const ServingRow &row = p.rows[i];
    const std::string where = p.file + ": /rows/" + std::to_string(i) + "/args (" + row.id + ")";
    CLI::App app("rooftop estimate");
    EstimateArgs a;
    add_estimate_options(app, a);
    auto words = split_args(row.args);
    std::reverse(words.begin(), words.end()); // CLI11 reads a vector from its back
    try {
      app.parse(words);
    } catch (const CLI::CallForHelp &) {
      throw InputError(where + ": --help asks for help; a row holds estimate options only");
    } catch (const CLI::CallForAllHelp &) {
      throw InputError(where + ": --help-all asks for help; a row holds estimate options only");
    } catch (const CLI::ParseError &e) {
      throw InputError(where + ": " + e.what());
    }
    std::string args = row.args;
    bool engine_added = false;
    // A row that names its engine or its table keeps it.
    if (a.engine.empty() && !engine.empty() && !a.ideal && a.efficiency_file.empty() &&
        a.calibration_file.empty()) {
      a.engine = engine;
      args += " --engine " + engine;
      engine_added = true;
    }
    try {
      const auto setup = [&]() -> EstimateSetup {
        if (!engine_added) return resolve_estimate_args(a);
        try {
          EstimateSetup with = resolve_estimate_args(a);
          // vllm falls back to the derated defaults: those are no engine's kernels either.
          if (with.efficiency.engine == engine) return with;
        } catch (const InputError &) {
          // No table of that engine for the GPU (nor its architecture), or another problem of
          // the row, which resolving it as written reports.
        }
        // The row keeps its own table.
        a.engine.clear();
        args = row.args;
        engine_added = false;
        return resolve_estimate_args(a);
      };
      const EstimateSetup s = setup();
      const auto e =
          sim::estimate(*s.gpu, s.model, s.deployment, s.efficiency, s.options, &s.cluster);
      ServingComparison c;
      c.row = &row;
      c.predicted = metric_of(e, row.metric);
      c.relative_error = c.predicted / row.published - 1.0;
      c.fits = e.feasibility == sim::Feasibility::ok;
      c.batch_max = a.batch == "max";
      c.batch = s.deployment.batch;
      c.model = a.model;
      c.gpu = s.gpu->id;
      c.tp = s.deployment.tp;
      c.args = args;
      c.engine_added = engine_added;
      out.push_back(c);
    } catch (const InputError &e) {
      throw InputError(where + ": " + e.what());
    } catch (const NotSupported &e) {
      throw InputError(where + ": " + e.what());
    }
  }
  return out;
}

} // namespace rooftop::cli
