// JSON reading with precise error messages.
#include "core/json_io.hpp"

#include "core/errors.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace rooftop {

namespace {

/// A SAX handler that only tracks the JSON pointer of the value being parsed, to name the field
/// whose number overflows a double (nlohmann reports only "number overflow parsing '1e400'") or
/// the key an object repeats (read_json_file feeds it the parser callback's events).
class PointerTracker {
public:
  using json = nlohmann::json;
  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const json::string_t &) { return value(); }
  bool string(json::string_t &) { return value(); }
  bool binary(json::binary_t &) { return value(); }
  bool start_object(std::size_t) { return open(false); }
  bool start_array(std::size_t) { return open(true); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t &k) {
    frames_.back().key = k;
    return true;
  }
  /// key(), and whether the object being parsed did not hold `k` yet.
  bool new_key(const std::string &k) {
    frames_.back().key = k;
    return frames_.back().keys.insert(k).second;
  }
  /// The JSON pointer of the value being parsed ("" at the top level).
  [[nodiscard]] std::string current() const {
    std::string p;
    for (const auto &f : frames_) p += "/" + (f.array ? std::to_string(f.index) : escape(f.key));
    return p;
  }
  bool parse_error(std::size_t, const std::string &token, const nlohmann::detail::exception &) {
    token_ = token;
    pointer_ = current();
    return false;
  }
  [[nodiscard]] const std::string &pointer() const { return pointer_; }
  [[nodiscard]] const std::string &token() const { return token_; }

private:
  struct Frame {
    bool array = false;
    std::size_t index = 0;
    std::string key;
    std::set<std::string> keys; ///< an object's keys so far
  };
  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  bool open(bool array) {
    frames_.push_back({array, 0, {}, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return value();
  }
  /// RFC 6901: "~" -> "~0", "/" -> "~1".
  static std::string escape(const std::string &k) {
    std::string out;
    for (char c : k)
      out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
    return out;
  }
  std::vector<Frame> frames_;
  std::string pointer_, token_;
};

/// A bound for messages: "1e9", "1e-12", "0.5", "3600" (not "1e+09").
std::string bound_text(double v) {
  if (v != 0) {
    const int e = static_cast<int>(std::floor(std::log10(std::fabs(v))));
    const double mantissa = v / std::pow(10.0, e);
    if ((e >= 5 || e <= -4) && std::fabs(mantissa - std::round(mantissa)) < 1e-9)
      return std::to_string(static_cast<long long>(std::round(mantissa))) + "e" + std::to_string(e);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

} // namespace

nlohmann::json read_json_file(const std::filesystem::path &path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string() + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  // nlohmann keeps the last of repeated keys without a word; the parser callback sees each key
  // and the tracker the object it belongs to.
  PointerTracker keys;
  const auto check_keys = [&](int, nlohmann::json::parse_event_t event, nlohmann::json &parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
    case E::object_start: keys.start_object(0); break;
    case E::array_start: keys.start_array(0); break;
    case E::object_end: keys.end_object(); break;
    case E::array_end: keys.end_array(); break;
    case E::value: keys.null(); break; // any value: moves an array's index on
    case E::key:
      if (!keys.new_key(parsed.get<std::string>()))
        throw InputError(path.string() + ": " + keys.current() +
                         ": duplicate key (an object holds each key once; which value would "
                         "count is undefined)");
      break;
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, check_keys);
  } catch (const nlohmann::json::parse_error &e) {
    throw InputError(path.string() + ": malformed JSON: " + e.what());
  } catch (const nlohmann::json::out_of_range &) {
    // The only out_of_range the parser raises is 406: a number beyond a double (|x| > 1.8e308).
    PointerTracker t;
    nlohmann::json::sax_parse(text, &t);
    throw InputError(path.string() + ": " + (t.pointer().empty() ? "/" : t.pointer()) + " = " +
                     t.token() + ": number too large for a double (|x| must be below 1.8e308)");
  } catch (const nlohmann::json::exception &e) {
    throw InputError(path.string() + ": invalid JSON: " + e.what());
  }
}

JsonReader::JsonReader(const nlohmann::json &j, std::string file, std::string pointer, Nulls nulls)
    : j_(j), file_(std::move(file)), pointer_(std::move(pointer)), nulls_(nulls) {
  if (!j_.is_object())
    throw InputError(file_ + ": " + (pointer_.empty() ? "/" : pointer_) +
                     ": expected a JSON object, got " + j_.type_name());
}

std::string JsonReader::pointer(const std::string &key) const { return pointer_ + "/" + key; }

std::string JsonReader::where(const std::string &key) const { return file_ + ": " + pointer(key); }

void JsonReader::fail(const std::string &key, const std::string &message) const {
  std::string value;
  if (auto it = j_.find(key); it != j_.end()) value = " = " + it->dump();
  throw InputError(where(key) + value + ": " + message);
}

void JsonReader::wrong_type(const std::string &key, const std::string &what) const {
  auto it = j_.find(key);
  const bool null = it != j_.end() && it->is_null();
  fail(key, "must be " + what +
                (null ? " (got null: give a value, or omit the key if it is optional)" : ""));
}

bool JsonReader::has(const std::string &key) const {
  auto it = j_.find(key);
  return it != j_.end() && !(it->is_null() && nulls_ == Nulls::absent);
}

const nlohmann::json *JsonReader::find(const std::string &key) {
  read_.insert(key);
  if (!has(key)) return nullptr;
  return &*j_.find(key);
}

const nlohmann::json *JsonReader::raw(const std::string &key) { return find(key); }

void JsonReader::ignore(const std::vector<std::string> &keys) {
  for (const auto &k : keys) read_.insert(k);
}

void JsonReader::check_number(const std::string &key, double v, Check check,
                              const std::string &unit) const {
  const std::string u = unit.empty() ? "" : " (" + unit + ")";
  if (!std::isfinite(v)) fail(key, "must be a finite number" + u);
  switch (check) {
  case Check::any: return;
  case Check::positive:
    if (!(v > 0)) fail(key, "must be > 0" + u);
    return;
  case Check::non_negative:
    if (v < 0) fail(key, "must be >= 0" + u);
    return;
  case Check::fraction:
    if (v < 0 || v > 1) fail(key, "must be a fraction in [0, 1]" + u);
    return;
  case Check::positive_integer:
    if (v < 1 || std::floor(v) != v) fail(key, "must be a positive integer" + u);
    return;
  case Check::non_negative_integer:
    if (v < 0 || std::floor(v) != v) fail(key, "must be a non-negative integer" + u);
    return;
  }
}

std::optional<double> JsonReader::optional_number(const std::string &key, Check check,
                                                  const std::string &unit) {
  const auto *v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) wrong_type(key, "a number" + (unit.empty() ? "" : " (" + unit + ")"));
  const double d = v->get<double>();
  check_number(key, d, check, unit);
  return d;
}

double JsonReader::number(const std::string &key, Check check, const std::string &unit) {
  auto v = optional_number(key, check, unit);
  if (!v) throw InputError(where(key) + ": missing required field" +
                           (unit.empty() ? "" : " (" + unit + ")"));
  return *v;
}

double JsonReader::number_or(const std::string &key, double fallback, Check check,
                             const std::string &unit) {
  auto v = optional_number(key, check, unit);
  return v ? *v : fallback;
}

std::optional<long long> JsonReader::optional_integer(const std::string &key, Check check) {
  auto v = optional_number(key, check, "count");
  if (!v) return std::nullopt;
  if (std::floor(*v) != *v || std::fabs(*v) > 9e15) fail(key, "must be an integer");
  return static_cast<long long>(*v);
}

long long JsonReader::integer(const std::string &key, Check check) {
  auto v = optional_integer(key, check);
  if (!v) throw InputError(where(key) + ": missing required field (integer)");
  return *v;
}

long long JsonReader::integer_or(const std::string &key, long long fallback, Check check) {
  auto v = optional_integer(key, check);
  return v ? *v : fallback;
}

double JsonReader::within(const std::string &key, double v, double lo, double hi,
                          const std::string &unit) const {
  if (!(v >= lo && v <= hi))
    fail(key, "must be in [" + bound_text(lo) + ", " + bound_text(hi) + "] (" + unit + ")");
  return v;
}

int JsonReader::to_int(const std::string &key, long long v) const {
  if (v > std::numeric_limits<int>::max() || v < std::numeric_limits<int>::min())
    fail(key, "must be at most 2147483647 in magnitude");
  return static_cast<int>(v);
}

std::optional<std::string> JsonReader::optional_string(const std::string &key) {
  const auto *v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) wrong_type(key, "a string");
  return v->get<std::string>();
}

std::string JsonReader::string(const std::string &key) {
  auto v = optional_string(key);
  if (!v) throw InputError(where(key) + ": missing required field (string)");
  return *v;
}

bool JsonReader::boolean_or(const std::string &key, bool fallback) {
  const auto *v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) wrong_type(key, "true or false");
  return v->get<bool>();
}

std::map<std::string, std::string> JsonReader::string_map(const std::string &key) {
  std::map<std::string, std::string> out;
  const auto *v = find(key);
  if (!v) return out;
  if (!v->is_object()) wrong_type(key, "an object of strings");
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it->is_string()) fail(key, "each value must be a string");
    out[it.key()] = it->get<std::string>();
  }
  return out;
}

std::vector<std::string> JsonReader::string_list(const std::string &key) {
  std::vector<std::string> out;
  const auto *v = find(key);
  if (!v) return out;
  if (!v->is_array()) wrong_type(key, "an array of strings");
  for (const auto &e : *v) {
    if (!e.is_string()) fail(key, "must be an array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

JsonReader JsonReader::object(const std::string &key) {
  const auto *v = find(key);
  if (!v) throw InputError(where(key) + ": missing required field (object)");
  if (!v->is_object()) wrong_type(key, "a JSON object");
  return JsonReader(*v, file_, pointer(key), nulls_);
}

const nlohmann::json &JsonReader::array(const std::string &key) {
  const auto *v = find(key);
  if (!v) throw InputError(where(key) + ": missing required field (array)");
  if (!v->is_array()) wrong_type(key, "a JSON array");
  return *v;
}

void JsonReader::finish() const {
  for (auto it = j_.begin(); it != j_.end(); ++it)
    if (!read_.count(it.key()))
      throw InputError(where(it.key()) + ": unknown key (check the spelling against the schema)");
}

} // namespace rooftop
