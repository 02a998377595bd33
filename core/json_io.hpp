// Reading JSON input with file/pointer-qualified errors: required, optional and defaulted fields,
// range checks with units, and (for rooftop's own schemas) rejection of unknown keys.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rooftop {

/// Parses a JSON file. Throws InputError naming the file if it cannot be read or is malformed.
nlohmann::json read_json_file(const std::filesystem::path &path);

/// What a number must satisfy; the unit is printed in the error message.
enum class Check { any, positive, non_negative, fraction, positive_integer, non_negative_integer };

/// What a JSON null means. rooftop's own schemas never hold null, so there it is an error naming
/// the field (it would otherwise silently take a default); in foreign formats (Hugging Face
/// config.json) null means "not set" and reads as an absent key.
enum class Nulls { reject, absent };

/// A view of one JSON object inside a file. Every read records the key; finish() then rejects
/// keys that were never read (strict schemas). Errors name the file and the JSON pointer.
class JsonReader {
public:
  /// `nulls` is inherited by the readers object() returns.
  JsonReader(const nlohmann::json &j, std::string file, std::string pointer = "",
             Nulls nulls = Nulls::reject);

  /// True if the key is present (with Nulls::absent: present and not null). A present null
  /// under Nulls::reject makes every typed read of the key fail, naming it.
  [[nodiscard]] bool has(const std::string &key) const;
  /// A required number satisfying `check`; `unit` is for messages ("bytes/s", "s", "count").
  double number(const std::string &key, Check check, const std::string &unit);
  /// An optional number (nullopt when absent).
  std::optional<double> optional_number(const std::string &key, Check check,
                                        const std::string &unit);
  /// A number with a default when absent.
  double number_or(const std::string &key, double fallback, Check check, const std::string &unit);
  /// A required non-negative integer (rejects 1.5, -1, strings).
  long long integer(const std::string &key, Check check = Check::positive_integer);
  std::optional<long long> optional_integer(const std::string &key,
                                            Check check = Check::positive_integer);
  long long integer_or(const std::string &key, long long fallback,
                       Check check = Check::non_negative_integer);
  /// `v`, read from `key`, when it lies in [lo, hi]; else fails naming the key and the bounds
  /// ("must be in [1e9, 1e15] (bytes/s)"). For values whose absurd extremes would make an
  /// estimate infinite or meaningless.
  double within(const std::string &key, double v, double lo, double hi,
                const std::string &unit) const;
  /// `v`, read from `key`, as an int (SM, link and sample counts); fails naming the key when it
  /// does not fit (|v| > 2147483647) instead of wrapping around.
  [[nodiscard]] int to_int(const std::string &key, long long v) const;
  std::string string(const std::string &key);
  std::optional<std::string> optional_string(const std::string &key);
  bool boolean_or(const std::string &key, bool fallback);
  /// A required nested object.
  JsonReader object(const std::string &key);
  /// A required array (elements read by the caller through element_pointer for errors).
  const nlohmann::json &array(const std::string &key);
  /// Raw access to a value (marks the key as read); nullptr when absent. The caller checks its
  /// type (under Nulls::reject it may be a null).
  const nlohmann::json *raw(const std::string &key);
  /// An optional object of string values (e.g. "sources": JSON pointer -> citation).
  std::map<std::string, std::string> string_map(const std::string &key);
  /// An optional array of strings (e.g. "notes").
  std::vector<std::string> string_list(const std::string &key);
  /// Marks keys as known without reading them.
  void ignore(const std::vector<std::string> &keys);
  /// Throws InputError for the first key that was not read (strict schemas).
  void finish() const;

  /// "file: /pointer/key" for messages.
  [[nodiscard]] std::string where(const std::string &key) const;
  /// Throws InputError "file: /pointer/key = value: message".
  [[noreturn]] void fail(const std::string &key, const std::string &message) const;
  [[nodiscard]] const std::string &file() const { return file_; }
  [[nodiscard]] std::string pointer(const std::string &key) const;
  [[nodiscard]] const nlohmann::json &json() const { return j_; }

private:
  const nlohmann::json *find(const std::string &key);
  void check_number(const std::string &key, double v, Check check, const std::string &unit) const;

  /// fail(): "must be <what>", plus a hint when the value is a null.
  [[noreturn]] void wrong_type(const std::string &key, const std::string &what) const;

  const nlohmann::json &j_;
  std::string file_;
  std::string pointer_;
  Nulls nulls_;
  std::set<std::string> read_;
};

} // namespace rooftop
