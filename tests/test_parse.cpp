// Command-line sizes (core/parse.hpp): exact whole numbers of bytes from 1 to 2^50, or an error
// naming the option and the text.
#include "core/errors.hpp"
#include "core/parse.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace rooftop;

namespace {
double bytes(const std::string &text) { return parse_bytes(text, "--bytes").value(); }

/// parse_bytes refuses `text` with a message naming the option, the text and `why`.
void refused(const std::string &text, const std::string &why) {
  INFO("text: '" << text << "'");
  try {
    (void)parse_bytes(text, "--bytes");
    FAIL("accepted");
  } catch (const InputError &e) {
    const std::string m = e.what();
    INFO("message: " << m);
    CHECK(m.rfind("--bytes = '" + text + "': " + why, 0) == 0);
  }
}
} // namespace

TEST_CASE("parse_bytes: numbers with decimal and binary units, exactly") {
  CHECK(bytes("4096") == 4096);
  CHECK(bytes("1e9") == 1e9);
  CHECK(bytes("1GB") == 1e9);               // 10^9
  CHECK(bytes("1GiB") == 1073741824.0);     // 2^30
  CHECK(bytes("256 MiB") == 268435456.0);   // 2^28
  CHECK(bytes("1.5KiB") == 1536);           // 1.5 x 1024
  CHECK(bytes("2.5e-1KiB") == 256);         // 0.25 x 1024
  CHECK(bytes("1e-3kB") == 1);              // 10^-3 x 10^3
  CHECK(bytes("4096.000") == 4096);
  CHECK(bytes("8B") == 8);
  CHECK(bytes("1024TiB") == 1125899906842624.0); // 2^50, the largest
  CHECK(bytes("1125899906842624") == 1125899906842624.0);
}

TEST_CASE("parse_bytes: not a size, below 1 byte, a fraction of a byte or above 2^50") {
  refused("", "not a size");
  refused("nan", "not a size");
  refused("inf", "not a size");
  refused(" 12", "leading or trailing whitespace");
  refused("12 ", "leading or trailing whitespace"); // once read as 12 bytes
  refused("1GiB\t", "leading or trailing whitespace");
  refused("\n1GiB", "leading or trailing whitespace");
  refused("1 GiB ", "leading or trailing whitespace");
  refused("1e", "not a size");
  refused("0", "must be at least 1 byte");
  refused("-1", "must be at least 1 byte");
  refused("1.5", "not a whole number of bytes");
  refused("0.5B", "not a whole number of bytes");
  refused("1.0001KiB", "not a whole number of bytes");     // 1024.1024 bytes
  refused("0.00048828125KiB", "not a whole number of bytes"); // 2^-11 x 2^10 = 0.5
  refused("1e-400", "not a whole number of bytes");
  refused("12abc", "unknown unit 'abc'");
  refused("0x10", "unknown unit 'x10'");
  refused("1gib", "unknown unit 'gib'");
  refused("1e30", "more than 2^50 bytes");
  refused("1125899906842625", "more than 2^50 bytes"); // 2^50 + 1
  refused("9007199254740993", "more than 2^50 bytes"); // 2^53 + 1: a double rounds it to 2^53
  refused("1025TiB", "more than 2^50 bytes");
  refused("1e99999", "more than 2^50 bytes");
}
