// Config: a task configuration as Rubin's pex_config saves it, an ordered list of
// `name = value` settings (storage class `Config`).
//
// The names are the dotted paths pex_config writes after `config.` ("doWrite",
// "isr.doBias", "skyMap['rings'].numRings"), kept verbatim; the values are Python literals
// (ConfigValue). The file is Python text, one `config.NAME=VALUE` line per setting, each
// VALUE in the syntax Python's ast.literal_eval reads back (docs/formats/storage_classes.md,
// "Config"). It is the untyped base on which the pipe module's typed configs are built.
//
// Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace majordome::datastore {

class ConfigValue;
using ConfigList = std::vector<ConfigValue>;
// A Python dict: keys are values too (pex_config's DictField allows int and str keys); the
// order is the order written.
using ConfigDict = std::vector<std::pair<ConfigValue, ConfigValue>>;

// A Python literal: None, bool, int (64-bit), float, str, list (a tuple reads as a list), or
// dict.
class ConfigValue {
 public:
  using Variant = std::variant<std::monostate, bool, std::int64_t, double, std::string, ConfigList, ConfigDict>;

  ConfigValue() = default;  // None
  ConfigValue(std::nullptr_t) {}
  ConfigValue(bool v) : value_(v) {}
  ConfigValue(int v) : value_(std::int64_t{v}) {}
  ConfigValue(std::int64_t v) : value_(v) {}
  ConfigValue(double v) : value_(v) {}
  ConfigValue(const char* v) : value_(std::string(v)) {}
  ConfigValue(std::string v) : value_(std::move(v)) {}
  ConfigValue(ConfigList v) : value_(std::move(v)) {}
  ConfigValue(ConfigDict v) : value_(std::move(v)) {}

  const Variant& value() const { return value_; }
  bool is_none() const { return std::holds_alternative<std::monostate>(value_); }
  template <class T>
  const T* get_if() const {
    return std::get_if<T>(&value_);
  }

  // The value as Python source (repr()): None, True, 3, 0.5, 1e+16, 'text', [1, 2],
  // {'a': 1}. Floats are written with the fewest digits that read back to the same double;
  // an infinity as 1e999 (ast.literal_eval reads it as inf); a NaN as float('nan'), which
  // pex_config also writes and ast.literal_eval cannot read.
  std::string to_python() const;
  // Parses one literal (as written by to_python, or by pex_config: single- or
  // double-quoted strings with Python escapes, tuples, float('nan'|'inf'|'-inf')).
  // InvalidArgumentError naming the position for anything else.
  static ConfigValue from_python(std::string_view text);

  // NaN equals NaN here, so a round trip compares equal.
  friend bool operator==(const ConfigValue& a, const ConfigValue& b);

 private:
  Variant value_;
};

inline constexpr int kConfigFormatVersion = 1;

class Config {
 public:
  Config() = default;

  // Sets a setting: replaces the value of an existing name in place, else appends.
  // InvalidArgumentError for an empty name or one with a line break.
  void set(std::string name, ConfigValue value);
  // nullptr when there is no such setting.
  const ConfigValue* find(std::string_view name) const;
  // NotFoundError naming the setting.
  const ConfigValue& get(std::string_view name) const;
  const std::vector<std::pair<std::string, ConfigValue>>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }

  // The file text: a version comment line, then `config.NAME=VALUE` per setting, in order.
  std::string to_python() const;
  // Reads that text or a file pex_config wrote: `import`/`from` lines, `assert` lines (its
  // check of the config's Python class), comments and blank lines are skipped; a value may continue over lines while brackets are open. Other
  // statements (`config.x.retarget(...)`) → InvalidArgumentError naming `source` and the
  // line; so does a newer format version.
  static Config from_python(std::string_view text, const std::string& source = "config");

  friend bool operator==(const Config&, const Config&) = default;

 private:
  std::vector<std::pair<std::string, ConfigValue>> entries_;
};

}  // namespace majordome::datastore
