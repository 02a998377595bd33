// `rooftop validate --serving`: rooftop's estimate of published end-to-end serving results.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rooftop::cli {

/// Where a group of rows comes from (rooftop.serving_published/1 "sources").
struct ServingSource {
  std::string framework;    ///< serving software, version and benchmark mode
  std::string citation;     ///< the public page and table
  std::string rooftop_args; ///< why the rows' estimate options are what they are
};

/// One published figure and the `rooftop estimate` options that describe its deployment.
struct ServingRow {
  std::string id;
  std::string source;   ///< key into ServingPublished::sources
  std::string args;     ///< estimate options, separated by spaces
  std::string metric;   ///< rooftop.estimate/1 key compared (see serving_metrics())
  double published = 0; ///< in the metric's SI unit
};

struct ServingPublished {
  std::string file;
  std::map<std::string, ServingSource> sources;
  std::vector<ServingRow> rows;
};

/// The estimate figures a row may compare: output_tokens_per_s, output_tokens_per_s_per_gpu,
/// output_tokens_per_s_per_user, ttft_s, tpot_s, e2e_latency_s.
const std::vector<std::string> &serving_metrics();

/// Loads and checks the file (schema, known metric and source, positive figure, unique ids).
/// Throws InputError naming the file and field.
ServingPublished load_serving_published(const std::string &file);

/// rooftop's figure for one row.
struct ServingComparison {
  const ServingRow *row = nullptr;
  double predicted = 0;       ///< the metric, as rooftop estimates it
  double relative_error = 0;  ///< predicted / published - 1
  bool fits = true;           ///< rooftop finds the deployment fits in memory
  bool batch_max = false;     ///< the row asked for --batch max
  long long batch = 0;        ///< the batch rooftop used (resolved for --batch max)
  std::string model;          ///< the row's --model, as parsed
  std::string gpu;            ///< the GPU id the estimate used (from --gpu or --system)
  long long tp = 1;           ///< the tensor-parallel degree the estimate used
  std::string args;           ///< the estimate options run: the row's, and --engine if added
  bool engine_added = false;  ///< validate's --engine was given to this row
  /// Counted in the error statistics: every row except a --batch max row where not even
  /// batch 1 fits (its figure is for a batch that cannot run).
  [[nodiscard]] bool counted() const { return fits || !batch_max; }
};

/// Runs `rooftop estimate` on every row. A row whose options are invalid (unknown model,
/// impossible mapping) throws InputError naming the file, the row and the option.
/// `engine` (hw::known_engines(), or "" for each row's own choice) is given, as `--engine`, to
/// every row that names no engine and no table (--ideal, --efficiency, --calibration) and whose
/// GPU has a built-in table of that engine (its own or its architecture's); the others keep
/// theirs, so the derated defaults never stand in for an engine's kernels.
std::vector<ServingComparison> compare_serving(const ServingPublished &p,
                                               const std::string &engine = "");

} // namespace rooftop::cli
