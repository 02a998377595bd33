// Request workloads: generation with seeded Poisson arrivals, and rooftop.requests/1 traces.
#include "workloads/requests.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"

#include <cmath>
#include <random>
#include <sstream>

namespace rooftop::wl {

namespace {
/// A rate as written: "1e-09", not std::to_string's "0.000000".
std::string shortest(double x) {
  std::ostringstream o;
  o << x;
  return o.str();
}
} // namespace

std::vector<Request> generate_requests(const RequestPattern &p) {
  if (p.count < 1 || p.count > 10'000'000)
    throw InputError("--requests = " + std::to_string(p.count) + ": must be in [1, 10^7]");
  if (p.input_tokens < 1 || p.output_tokens < 1)
    throw InputError("--input-len and --output-len must be >= 1 tokens");
  if (!(std::isfinite(p.rate_per_s) && p.rate_per_s >= 0))
    throw InputError("--rate = " + std::to_string(p.rate_per_s) +
                     ": must be a finite rate >= 0 (requests/s; 0 = all at t = 0)");
  if (p.stride < 1 || p.stride > (1LL << 20))
    throw InputError("request stride " + std::to_string(p.stride) + ": must be in [1, 2^20]");
  std::vector<Request> out(static_cast<std::size_t>(p.count));
  std::mt19937_64 rng(p.seed);
  double t = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    Request &r = out[i];
    r.input_tokens = p.input_tokens;
    r.output_tokens = p.output_tokens;
    // Request i of the kept ones is request i x stride of the stream: the first has one gap
    // before it, each later one stride more.
    for (long long g = 0; p.rate_per_s > 0 && g < (i == 0 ? 1 : p.stride); ++g) {
      // u in [0, 1) from the top 53 bits: -ln(1 - u) is finite.
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      t += -std::log1p(-u) / p.rate_per_s;
      if (!(t <= max_arrival_s))
        throw InputError("--rate = " + shortest(p.rate_per_s) + " requests/s: " +
                         std::to_string(p.count * p.stride) +
                         " requests would arrive over more than 1e8 s (about 3 years), beyond "
                         "what the simulator's clock resolves");
    }
    r.arrival_s = t;
  }
  return out;
}

void validate_requests(const std::vector<Request> &r, const std::string &where) {
  if (r.empty()) throw InputError(where + ": no requests");
  for (std::size_t i = 0; i < r.size(); ++i) {
    const auto &q = r[i];
    const std::string at = where + ": request " + std::to_string(i);
    if (!(q.arrival_s >= 0 && q.arrival_s <= max_arrival_s))
      throw InputError(at + ": arrival_s must be a time in [0, 1e8] s");
    if (q.input_tokens < 1 || q.output_tokens < 1)
      throw InputError(at + ": input_tokens and output_tokens must be >= 1");
  }
}

std::vector<Request> load_requests(const std::string &path) {
  const auto j = read_json_file(path);
  if (!j.is_object()) throw InputError(path + ": expected a JSON object (rooftop.requests/1)");
  JsonReader top(j, path);
  const std::string schema = top.string("schema");
  if (schema != "rooftop.requests/1")
    top.fail("schema", "expected \"rooftop.requests/1\"");
  top.optional_string("source");
  const auto &arr = top.array("requests");
  if (!arr.is_array()) top.fail("requests", "must be an array of requests");
  if (arr.empty()) top.fail("requests", "must hold at least one request");
  std::vector<Request> out;
  out.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string ptr = "/requests/" + std::to_string(i);
    if (!arr[i].is_object()) throw InputError(path + ": " + ptr + ": must be an object");
    JsonReader r(arr[i], path, ptr);
    Request q;
    q.arrival_s = r.number_or("arrival_s", 0.0, Check::non_negative, "s");
    if (!(q.arrival_s <= max_arrival_s))
      r.fail("arrival_s", "must be at most 1e8 s (about 3 years; the simulator's clock resolves "
                          "steps only that far)");
    q.input_tokens = r.integer("input_tokens");
    q.output_tokens = r.integer("output_tokens");
    r.finish();
    out.push_back(q);
  }
  top.finish();
  return out; // in the file's order: request i is /requests/i (the simulator sorts by arrival)
}

} // namespace rooftop::wl
