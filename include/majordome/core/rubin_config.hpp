// Reading Rubin pex_config overrides: the `config.py` files users pass with -C/--config-file
// (Python statements `config.<field> = <literal>`) and the `-c field=value` options. This
// splits them into assignments; each command interprets the fields and literals it knows.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace majordome {

// One `config.<field> = <literal>` statement, or another `config.` statement (a method call
// such as `config.file_reader.retarget(ReadFitsCatalogTask)`) when `value` is empty.
struct ConfigStatement {
  std::string field;                 // after "config.", e.g. skyMap["rings"].numRings
  std::optional<std::string> value;  // the Python literal as written, trailing comment removed
  std::string text;                  // the whole statement on one line
  std::string where;                 // "<source> line N", for messages
};

// The statements of a config.py text. Comments, blank lines and `import`/`from`/`assert`
// lines are skipped; a statement continues over lines while a bracket is open. Any other
// statement not starting with `config.` is an InvalidConfigError naming the line.
std::vector<ConfigStatement> parse_config_py(std::string_view text, const std::string& source);
// The same for a file (NotFoundError if it cannot be read).
std::vector<ConfigStatement> read_config_py(const std::filesystem::path& path);

// A `-c` override: `field=value` or `config.field=value` (InvalidConfigError without '=').
ConfigStatement parse_config_override(std::string_view text, const std::string& where);

// `skyMap["rings"].tractBuilder['cells'].cellBorder` → skyMap, [rings], tractBuilder,
// [cells], cellBorder: attribute names as they are, dictionary keys bracketed and unquoted.
std::vector<std::string> split_config_field(std::string_view field, const std::string& where);

// A quoted Python string literal without its quotes; anything else trimmed as it is.
std::string unquote_python(std::string_view literal);

}  // namespace majordome
