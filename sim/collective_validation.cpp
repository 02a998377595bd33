// Validation of the collective model against published nccl-tests figures.
#include "sim/collective_validation.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "hwmodels/efficiency.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace rooftop::sim {

std::vector<PublishedCollective> load_published_collectives(const std::filesystem::path &file) {
  const auto j = read_json_file(file);
  JsonReader r(j, file.string());
  if (r.string("schema") != "rooftop.nccl_published/1")
    r.fail("schema", "expected \"rooftop.nccl_published/1\"");
  r.ignore({"description"});
  const auto &arr = r.array("rows");
  r.finish();
  if (arr.empty()) r.fail("rows", "is empty: nothing to compare");
  std::vector<PublishedCollective> out;
  std::map<std::string, std::size_t> first; // id -> index of its row
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonReader e(arr[i], file.string(), "/rows/" + std::to_string(i));
    PublishedCollective p;
    p.id = e.string("id");
    p.system = e.string("system");
    p.nodes = e.integer("nodes");
    p.ranks = e.integer("ranks");
    if (p.ranks < 2) e.fail("ranks", "must be >= 2: a collective needs two GPUs");
    try {
      p.op = collective_from_string(e.string("op"));
    } catch (const InputError &err) {
      e.fail("op", err.what());
    }
    p.size = Bytes(e.number("size_bytes", Check::positive, "bytes"));
    if (p.size.value() < 1 || std::floor(p.size.value()) != p.size.value())
      e.fail("size_bytes", "must be a whole number of bytes >= 1");
    p.busbw = BytesPerSecond(e.number("busbw_Bps", Check::positive, "bytes/s"));
    p.kind = e.string("kind");
    p.fitted = e.boolean_or("fitted", false);
    p.source = e.string("source");
    p.note = e.optional_string("note").value_or("");
    if (const auto [it, fresh] = first.emplace(p.id, i); !fresh)
      e.fail("id", "duplicate of /rows/" + std::to_string(it->second) + "/id (ids must be unique)");
    e.finish();
    out.push_back(p);
  }
  return out;
}

std::vector<CollectiveComparison> compare_published(const std::vector<PublishedCollective> &rows) {
  std::vector<CollectiveComparison> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto &p = rows[i];
    try {
      const auto &sys = hw::SystemCatalogue::builtin().get(p.system);
      const auto cluster = hw::make_cluster(sys, p.nodes);
      const auto eff = hw::builtin_efficiency(hw::GpuCatalogue::builtin().get(sys.gpu));
      const auto cost = collective_cost(p.op, p.size, cluster, p.ranks, eff);
      out.push_back({p, cost, cost.busbw / p.busbw - 1.0});
    } catch (const InputError &e) { // name the row (system, nodes, ranks), not a CLI option
      throw InputError("/rows/" + std::to_string(i) + " (" + p.id + ": system " + p.system + ", " +
                       std::to_string(p.nodes) + " nodes, " + std::to_string(p.ranks) +
                       " ranks): " + e.what());
    }
  }
  return out;
}

ErrorSummary summarize_errors(const std::vector<double> &relative_errors) {
  ErrorSummary s;
  std::vector<double> a;
  for (double e : relative_errors) a.push_back(std::fabs(e));
  std::sort(a.begin(), a.end());
  s.count = a.size();
  if (a.empty()) return s;
  const std::size_t n = a.size();
  s.median_abs = n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
  // nearest rank: ceil(0.9 n)
  s.p90_abs = a[static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(n))) - 1];
  s.max_abs = a.back();
  return s;
}

} // namespace rooftop::sim
