// Human-readable scaling of SI quantities. reports/ is the only place units are scaled.
#pragma once

#include "core/units.hpp"

#include <string>
#include <vector>

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
/// A plain number to at least 3 significant figures, no more decimals than that needs:
/// 3.66 -> "3.66", 36.6 -> "36.6", 1234.4 -> "1234", 0.01234 -> "0.0123".
std::string significant(double v);
/// A plural noun for a count: counted(1, "GPU") = "1 GPU", counted(4, "GPU") = "4 GPUs".
std::string counted(long long n, const std::string &noun);

/// `arg` quoted for a POSIX shell where it needs it: "a b" -> "'a b'", "it's" -> "'it'\\''s'";
/// "--tp" and "data/x.json" stay as they are; "" -> "''".
std::string shell_quote(const std::string &arg);
/// A command line that a POSIX shell reads back as `argv`: argv[0] as its file name (no
/// directory), each argument shell-quoted, and options given an empty value ("--gpu ''",
/// "--gpu=") left out, as they mean the same as the option absent.
std::string shell_command(const std::vector<std::string> &argv);
/// `text` with every path inside rooftop's data directory (rooftop::data_dir()) written
/// relative to it as "data/...", so that a report shows no local directory. Unchanged when no
/// data directory exists.
std::string data_relative(std::string text);

/// The rooftop version and git revision this binary was built from.
std::string version();
std::string git_sha();

} // namespace rooftop::rep
