// Human-readable scaling of SI quantities. reports/ is the only place units are scaled.
#pragma once

#include "core/units.hpp"

#include <string>

namespace rooftop::rep {

/// "80.00 GB" (1e9 bytes) — decimal, as datasheets print.
std::string gb(Bytes b);
/// Bytes with an auto decimal prefix: "512 B", "1.50 MB", "3.20 GB".
std::string bytes(Bytes b);
/// Time with an auto prefix: "18.04 ms", "3.1 us", "2.50 s".
std::string time(Seconds t);
/// FLOP with a decimal prefix: "60.0 GFLOP".
std::string flops(Flops f);
/// "989.5 TFLOP/s".
std::string flops_rate(FlopsPerSecond p);
/// "3.35 TB/s" (1e12 bytes/s).
std::string bandwidth(BytesPerSecond bw);
/// "70.55 B" parameters (1e9).
std::string params(double n);
/// "12.3%".
std::string percent(double fraction);

/// The rooftop version and git revision this binary was built from.
std::string version();
std::string git_sha();

} // namespace rooftop::rep
