// Request workloads for the serving simulator: generated (fixed lengths, all at once or Poisson
// arrivals) or read from a rooftop.requests/1 trace file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rooftop::wl {

/// Latest arrival the simulator accepts, seconds (about 3 years). The clock is a double: at 1e8 s
/// its resolution is 1.5e-8 s, far below a step; much later arrivals lose the steps themselves
/// (at 1e18 s a step of milliseconds adds nothing, and the makespan becomes 0).
inline constexpr double max_arrival_s = 1e8;

/// One inference request.
struct Request {
  double arrival_s = 0;       ///< arrival time, seconds from the start
  long long input_tokens = 1; ///< prompt tokens (>= 1)
  long long output_tokens = 1; ///< tokens to generate (>= 1; the first comes from prefill)
};

/// A generated workload: `count` requests of fixed lengths.
struct RequestPattern {
  long long count = 1000;       ///< requests
  double rate_per_s = 0;        ///< Poisson arrival rate, requests/s; 0 = all at t = 0
  long long input_tokens = 1024;
  long long output_tokens = 256;
  std::uint64_t seed = 1;       ///< seed of the arrival times (same seed, same workload)
  /// Keep requests 0, stride, 2 stride, ... of the stream: what one of `stride` replicas gets
  /// when arrivals are dealt to them in turn (rate_per_s is the whole stream's; count is the
  /// number kept).
  long long stride = 1;
};

/// Requests of `p`, sorted by arrival. With a rate, the gaps between arrivals are exponential
/// with mean 1 / rate (a Poisson process): gap = -ln(1 - u) / rate, u uniform in [0, 1) from
/// a 64-bit Mersenne Twister (std::mt19937_64, whose output the standard fixes), so a seed gives
/// the same arrivals with any compiler. Throws InputError for a count < 1, lengths < 1, a
/// negative or non-finite rate, or one so low that arrivals pass max_arrival_s.
std::vector<Request> generate_requests(const RequestPattern &p);

/// Reads a rooftop.requests/1 file: {"schema": "rooftop.requests/1", "source": "...",
/// "requests": [{"arrival_s": 0.0, "input_tokens": 512, "output_tokens": 128}, ...]}, returned
/// in the file's order (element i is /requests/i; arrivals need not be sorted). Throws
/// InputError naming the file and the JSON pointer of a bad field.
std::vector<Request> load_requests(const std::string &path);

/// Checks a request list (non-empty, lengths >= 1, arrivals in [0, max_arrival_s]); `where`
/// names its origin in errors.
void validate_requests(const std::vector<Request> &r, const std::string &where);

} // namespace rooftop::wl
