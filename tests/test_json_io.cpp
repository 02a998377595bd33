// JsonReader: required/optional fields, range checks and unknown keys, with pointer errors;
// catalogue directories.
#include "core/catalogue.hpp"
#include "core/errors.hpp"
#include "core/json_io.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

using namespace rooftop;

TEST_CASE("required numbers are range-checked and named by file and pointer") {
  const auto j = nlohmann::json::parse(R"({"a": {"bw_Bps": -1, "n": 1.5, "f": 2}, "s": 3})");
  JsonReader r(j, "x.json");
  JsonReader a = r.object("a");
  CHECK_THROWS_WITH_AS(a.number("bw_Bps", Check::positive, "bytes/s"),
                       "x.json: /a/bw_Bps = -1: must be > 0 (bytes/s)", InputError);
  CHECK_THROWS_WITH_AS(a.integer("n"), doctest::Contains("/a/n"), InputError);
  CHECK_THROWS_WITH_AS(a.number("f", Check::fraction, "fraction"),
                       doctest::Contains("fraction in [0, 1]"), InputError);
  CHECK_THROWS_WITH_AS(a.number("missing", Check::positive, "s"),
                       "x.json: /a/missing: missing required field (s)", InputError);
  CHECK_THROWS_WITH_AS(r.string("s"), doctest::Contains("/s = 3: must be a string"), InputError);
}

TEST_CASE("optional and defaulted fields") {
  const auto j = nlohmann::json::parse(R"({"y": 4})");
  JsonReader r(j, "f.json");
  CHECK(!r.optional_number("x", Check::positive, "").has_value());
  CHECK(r.number_or("z", 7.0, Check::positive, "") == 7.0);
  CHECK(r.integer_or("y", 1) == 4);
  r.finish();
}

TEST_CASE("a null in rooftop's schemas is an error naming the field, not a default") {
  const auto j = nlohmann::json::parse(R"({"x": null, "o": {"s": null}})");
  JsonReader r(j, "f.json");
  CHECK(r.has("x"));
  CHECK_THROWS_WITH_AS(r.number_or("x", 7.0, Check::positive, "s"),
                       "f.json: /x = null: must be a number (s) (got null: give a value, or omit "
                       "the key if it is optional)",
                       InputError);
  CHECK_THROWS_WITH_AS(r.optional_number("x", Check::any, ""), doctest::Contains("/x = null"),
                       InputError);
  CHECK_THROWS_WITH_AS(r.integer_or("x", 1), doctest::Contains("/x = null"), InputError);
  CHECK_THROWS_WITH_AS(r.boolean_or("x", false), doctest::Contains("/x = null"), InputError);
  CHECK_THROWS_WITH_AS(r.object("o").optional_string("s"), doctest::Contains("f.json: /o/s = null"),
                       InputError);
}

TEST_CASE("in a foreign format (Nulls::absent) a null reads as an absent key, nested too") {
  const auto j = nlohmann::json::parse(R"({"x": null, "o": {"s": null}})");
  JsonReader r(j, "config.json", "", Nulls::absent);
  CHECK(!r.has("x"));
  CHECK(!r.optional_number("x", Check::positive, "").has_value());
  CHECK(r.integer_or("x", 3) == 3);
  CHECK(!r.object("o").optional_string("s").has_value());
}

TEST_CASE("an integer narrowed to int fails naming the key instead of wrapping around") {
  const auto j = nlohmann::json::parse(R"({"n": 4294967300, "m": 7})");
  JsonReader r(j, "f.json");
  CHECK(r.to_int("m", r.integer("m")) == 7);
  CHECK_THROWS_WITH_AS((void)r.to_int("n", r.integer("n")),
                       "f.json: /n = 4294967300: must be at most 2147483647 in magnitude",
                       InputError);
}

TEST_CASE("within: a value outside its bounds names the key and the bounds") {
  const auto j = nlohmann::json::parse(R"({"bw_Bps": 5e-324, "t_s": 0.5})");
  JsonReader r(j, "f.json");
  CHECK(r.within("t_s", 0.5, 0, 1, "s") == 0.5);
  CHECK_THROWS_WITH_AS((void)r.within("bw_Bps", 5e-324, 1e9, 1e15, "bytes/s"),
                       "f.json: /bw_Bps = 5e-324: must be in [1e9, 1e15] (bytes/s)", InputError);
  CHECK_THROWS_WITH_AS((void)r.within("t_s", 0.5, 1e-12, 0.25, "s"),
                       doctest::Contains("must be in [1e-12, 0.25] (s)"), InputError);
  CHECK_THROWS_WITH_AS((void)r.within("t_s", std::nan(""), 0, 1, "s"),
                       doctest::Contains("must be in [0, 1] (s)"), InputError);
}

TEST_CASE("unknown keys are errors in strict schemas") {
  const auto j = nlohmann::json::parse(R"({"known": 1, "bandwith_Bps": 2})");
  JsonReader r(j, "g.json");
  r.number("known", Check::positive, "");
  CHECK_THROWS_WITH_AS(r.finish(), doctest::Contains("g.json: /bandwith_Bps: unknown key"), InputError);
}

TEST_CASE("malformed or missing files name the file") {
  CHECK_THROWS_WITH_AS(read_json_file("/nonexistent/file.json"),
                       doctest::Contains("/nonexistent/file.json: cannot open"), InputError);
  CHECK_THROWS_WITH_AS(read_json_file(ROOFTOP_TEST_DATA_DIR "/bad/gpu-malformed.json"),
                       doctest::Contains("gpu-malformed.json: malformed JSON"), InputError);
}

TEST_CASE("a number beyond a double is an input error naming the file and the field") {
  // nlohmann throws out_of_range.406 ("number overflow"), not a parse_error, for these.
  CHECK_THROWS_WITH_AS(read_json_file(ROOFTOP_TEST_DATA_DIR "/bad/number-overflow.json"),
                       "" ROOFTOP_TEST_DATA_DIR "/bad/number-overflow.json: /a/list/1/big_s = "
                       "1e400: number too large for a double (|x| must be below 1.8e308)",
                       InputError);
}

TEST_CASE("a key repeated in one object is an input error naming the file and the key") {
  // nlohmann keeps the last value silently; the error names the object's pointer and the key.
  CHECK_THROWS_WITH_AS(read_json_file(ROOFTOP_TEST_DATA_DIR "/bad/duplicate-key.json"),
                       "" ROOFTOP_TEST_DATA_DIR "/bad/duplicate-key.json: /a/list/1/x_s: "
                       "duplicate key (an object holds each key once; which value would count "
                       "is undefined)",
                       InputError);
  // the same key in different objects, and escaped keys (RFC 6901: "/" -> "~1")
  const auto path = std::filesystem::temp_directory_path() /
                    ("rooftop_test_keys_" + std::to_string(getpid()) + ".json");
  std::ofstream(path) << R"({"a": {"x": 1}, "b": {"x": 2}, "l": [{"x": 1}, {"x": 2}], "x": 3})";
  CHECK(read_json_file(path).at("l").at(1).at("x") == 2);
  std::ofstream(path) << R"({"l": [[], {"k/1": 1, "k/1": 2}]})";
  CHECK_THROWS_WITH_AS(read_json_file(path), doctest::Contains(".json: /l/1/k~11: duplicate key"),
                       InputError);
  std::filesystem::remove(path);
}

TEST_CASE("every committed data file parses: no repeated keys") {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto &e : fs::recursive_directory_iterator(ROOFTOP_TEST_DATA_DIR "/../../data")) {
    if (e.path().extension() != ".json") continue;
    INFO(e.path().string());
    CHECK_NOTHROW(read_json_file(e.path()));
    ++files;
  }
  CHECK(files > 30);
}

TEST_CASE("catalogue directories: their JSON files in name order, ids named after their files") {
  const auto files = catalogue_files(ROOFTOP_TEST_DATA_DIR "/bad", "test");
  REQUIRE(files.size() >= 2);
  CHECK(std::is_sorted(files.begin(), files.end()));
  for (const auto &f : files) CHECK(f.extension() == ".json");
  CHECK_THROWS_WITH_AS(catalogue_files(ROOFTOP_TEST_DATA_DIR "/no-such-dir", "GPU catalogue"),
                       doctest::Contains("no-such-dir: GPU catalogue directory not found"),
                       InputError);
  CHECK_NOTHROW(check_id_matches_file("h100-sxm", "data/hardware/gpus/h100-sxm.json"));
  CHECK_THROWS_WITH_AS(check_id_matches_file("h100", "data/hardware/gpus/h100-sxm.json"),
                       doctest::Contains("h100-sxm.json: /id = \"h100\": must match the file "
                                         "name 'h100-sxm'"),
                       InputError);
  CHECK(known_ids(std::map<std::string, int>{{"b", 2}, {"a", 1}}) == "a, b");
}
