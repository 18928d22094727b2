#include "majordome/datastore/file_template.hpp"

#include "format_spec.hpp"
#include "majordome/core/error.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace majordome::datastore {
namespace {

constexpr std::string_view kRun = "run";
constexpr std::string_view kId = "id";
constexpr std::string_view kComponent = "component";

bool is_special(std::string_view name) {
  return name == kRun || name == kId || name == "datasetType" || name == kComponent;
}

bool is_identifier(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// One alternative of a field: "visit" or "exposure.obs_id".
struct Alternative {
  std::string full;     // as written
  std::string primary;  // before the dot
  std::optional<std::string> secondary;
};

// The field names of a template grouped as Rubin's validation sees them.
struct Groups {
  std::set<std::string> standard;  // plain dimension names
  std::set<std::string> parent;    // "a" of every "a.b"
  std::set<std::string> special;   // run, id, datasetType, component
};

std::string join(const std::set<std::string>& names) {
  std::vector<std::string> quoted;
  quoted.reserve(names.size());
  for (const auto& n : names) quoted.push_back("'" + n + "'");
  return "{" + fmt::format("{}", fmt::join(quoted, ", ")) + "}";
}

std::string describe(const TemplateValue& value) {
  if (const auto* number = std::get_if<std::int64_t>(&value)) return "integer " + std::to_string(*number);
  return "string '" + std::get<std::string>(value) + "'";
}

std::set<std::string> set_union(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out = a;
  out.insert(b.begin(), b.end());
  return out;
}

// Characters that must not reach a path from a string value (Windows-hostile or
// shell-hostile), replaced by '_'.
std::string sanitize(std::string_view value, bool keep_slash) {
  std::string out(value);
  for (char& c : out) {
    if (std::string_view(" <>:\"\\|?*").find(c) != std::string_view::npos || (c == '/' && !keep_slash)) c = '_';
  }
  return out;
}

// posixpath.normpath, without the leading-slash handling (the caller drops it anyway).
std::vector<std::string> normalize_components(std::string_view path) {
  bool absolute = !path.empty() && path[0] == '/';
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (comp == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.emplace_back("..");
      }
    } else if (!comp.empty() && comp != ".") {
      parts.emplace_back(comp);
    }
    start = end + 1;
  }
  return parts;
}

}  // namespace

struct FileTemplate::Part {
  struct Field {
    std::string name;  // as written, alternates included: "day_obs|visit.day_obs"
    std::vector<Alternative> alternatives;
    bool optional = false;
    bool keep_slash = false;
    bool convert_to_string = false;  // "!s"
    std::string spec_text;           // without the '?' and '/' extensions
    detail::FormatSpec spec;
  };

  std::string literal;  // text before the field (or all the text of a literal-only part)
  std::optional<Field> field;
};

FileTemplate::FileTemplate() = default;
FileTemplate::FileTemplate(const FileTemplate&) = default;
FileTemplate::FileTemplate(FileTemplate&&) noexcept = default;
FileTemplate& FileTemplate::operator=(const FileTemplate&) = default;
FileTemplate& FileTemplate::operator=(FileTemplate&&) noexcept = default;
FileTemplate::~FileTemplate() = default;

namespace {

[[noreturn]] void bad_template(std::string_view text, std::string_view problem) {
  throw InvalidConfigError(fmt::format("invalid file template '{}': {}", text, problem));
}

}  // namespace

FileTemplate FileTemplate::parse(std::string_view text) {
  FileTemplate out;
  out.text_ = std::string(text);
  std::string literal;
  std::size_t i = 0;
  // Splits like Python's string.Formatter().parse, including its quirk that an escaped
  // brace ends the literal chunk (so it is never part of the text an optional field drops).
  while (i < text.size()) {
    char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        out.parts_.push_back(Part{std::exchange(literal, {}), std::nullopt});
        i += 2;
        continue;
      }
      bad_template(text, fmt::format("single '}}' at position {} (write '}}}}' for a literal brace)", i));
    }
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      out.parts_.push_back(Part{std::exchange(literal, {}), std::nullopt});
      i += 2;
      continue;
    }
    std::size_t close = text.find_first_of("{}", i + 1);
    if (close == std::string_view::npos) {
      bad_template(text, fmt::format("unbalanced '{{' at position {}: expected '}}' before end of string", i));
    }
    if (text[close] == '{') {
      bad_template(text, fmt::format("nested '{{' at position {}: nested replacement fields are not supported",
                                     close));
    }
    std::string_view content = text.substr(i + 1, close - i - 1);
    Part::Field field;
    std::size_t name_end = content.find_first_of("!:");
    field.name = std::string(content.substr(0, name_end));
    std::string_view spec;
    if (name_end != std::string_view::npos) {
      std::string_view rest = content.substr(name_end);
      if (rest[0] == '!') {
        if (rest.size() < 2) bad_template(text, fmt::format("field '{}': missing conversion after '!'", field.name));
        char conversion = rest[1];
        if (conversion == 'r' || conversion == 'a') {
          bad_template(text, fmt::format("field '{}': conversion '!{}' is not supported in file templates; use '!s'",
                                         field.name, conversion));
        }
        if (conversion != 's') {
          bad_template(text, fmt::format("field '{}': unknown conversion specifier '{}'", field.name, conversion));
        }
        field.convert_to_string = true;
        rest = rest.substr(2);
        if (!rest.empty() && rest[0] != ':') {
          bad_template(text, fmt::format("field '{}': expected ':' after conversion specifier", field.name));
        }
      }
      if (!rest.empty()) spec = rest.substr(1);
    }
    if (field.name.empty()) bad_template(text, fmt::format("empty field name at position {}", i));
    std::size_t start = 0;
    while (start <= field.name.size()) {
      std::size_t bar = field.name.find('|', start);
      if (bar == std::string::npos) bar = field.name.size();
      Alternative alt;
      alt.full = field.name.substr(start, bar - start);
      std::size_t dot = alt.full.find('.');
      alt.primary = alt.full.substr(0, dot);
      if (dot != std::string::npos) alt.secondary = alt.full.substr(dot + 1);
      if (!is_identifier(alt.primary) || (alt.secondary && !is_identifier(*alt.secondary))) {
        bad_template(text, fmt::format("malformed field name '{}' (expected 'name', 'element.field' or "
                                       "alternatives joined by '|')",
                                       field.name));
      }
      field.alternatives.push_back(std::move(alt));
      start = bar + 1;
    }
    for (char ch : spec) {
      if (ch == '?') {
        field.optional = true;
      } else if (ch == '/') {
        field.keep_slash = true;
      } else {
        field.spec_text += ch;
      }
    }
    try {
      field.spec = detail::parse_format_spec(field.spec_text);
    } catch (const Error& e) {
      bad_template(text, fmt::format("field '{}': {}", field.name, e.what()));
    }
    out.parts_.push_back(Part{std::exchange(literal, {}), std::move(field)});
    i = close + 1;
  }
  if (!literal.empty()) out.parts_.push_back(Part{std::move(literal), std::nullopt});

  // The checks Rubin makes of every template, before any dataset type is known.
  std::set<std::string> with_specials = out.fields({.optionals = true, .specials = true});
  if (with_specials.count("collection") != 0) {
    bad_template(text, "'collection' is no longer supported as a placeholder; use 'run' instead");
  }
  if (with_specials.count(std::string(kRun)) == 0 && with_specials.count(std::string(kId)) == 0) {
    bad_template(text, "it must use 'run' or 'id' so that paths are unique");
  }
  if (out.fields({.optionals = true}).empty() && with_specials.count(std::string(kId)) == 0) {
    bad_template(text, "it has no field corresponding to a dimension (and no 'id')");
  }
  if (text.find("../") != std::string_view::npos) bad_template(text, "it must not contain '../'");
  if (with_specials.count(std::string(kId)) != 0) {
    std::size_t slash = text.rfind('/');
    std::string_view file_part = slash == std::string_view::npos ? text : text.substr(slash + 1);
    if (file_part.find("{id}") == std::string_view::npos) {
      bad_template(text, "it uses 'id' but '{id}' is not part of the file name");
    }
  }
  return out;
}

std::set<std::string> FileTemplate::fields(FieldSelection selection) const {
  std::set<std::string> names;
  for (const Part& part : parts_) {
    if (!part.field || (part.field->optional && !selection.optionals)) continue;
    for (const Alternative& alt : part.field->alternatives) {
      if (!selection.specials && is_special(alt.full)) continue;
      names.insert(selection.subfields ? alt.full : alt.primary);
    }
  }
  return names;
}

std::string FileTemplate::format(const TemplateValues& values) const {
  const std::optional<std::string> skypix = values.skypix_dimension();
  auto present = [&](const std::string& primary) {
    return values.contains(primary) || (primary == "skypix" && skypix);
  };

  bool used_component = false;
  std::string output;
  for (const Part& part : parts_) {
    if (!part.field) {
      output += part.literal;
      continue;
    }
    const Part::Field& field = *part.field;
    const Alternative* chosen = &field.alternatives.front();
    for (const Alternative& alt : field.alternatives) {
      if (present(alt.primary)) {
        chosen = &alt;
        break;
      }
    }
    if (chosen->full == kComponent) used_component = true;

    std::optional<TemplateValue> value;
    std::string primary = chosen->primary == "skypix" && skypix ? *skypix : chosen->primary;
    if (!chosen->secondary) {
      value = values.find(primary);
    } else if (values.contains(primary)) {
      value = values.find(primary + "." + *chosen->secondary);
      bool has_record = values.has_record(primary) || TemplateValues::is_skypix_dimension(primary);
      if (!value && TemplateValues::is_skypix_dimension(primary) && *chosen->secondary == kId) {
        value = values.find(primary);  // a sky pixel's record holds only its id
      } else if (!value && !has_record) {
        throw InvalidArgumentError(fmt::format(
            "no dimension record for '{}' is attached, but file template '{}' needs '{}'; expand the data ID "
            "or change the template",
            primary, text_, chosen->full));
      }
    }

    std::string literal = part.literal;
    if (!value) {
      if (!field.optional) {
        throw NotFoundError(fmt::format("field '{}' of file template '{}' has no value and is not optional",
                                        field.name, text_));
      }
      if (literal.find('/') == std::string::npos) literal.clear();
      output += literal;
      continue;
    }

    std::string rendered;
    try {
      if (const auto* number = std::get_if<std::int64_t>(&*value)) {
        rendered = field.convert_to_string ? detail::format_string(std::to_string(*number), field.spec)
                                           : detail::format_integer(*number, field.spec);
      } else {
        rendered = detail::format_string(sanitize(std::get<std::string>(*value), field.keep_slash), field.spec);
      }
    } catch (const InvalidArgumentError& e) {
      throw InvalidConfigError(fmt::format("file template '{}': cannot format {} of field '{}' with spec '{}': {}",
                                           text_, describe(*value), chosen->full, field.spec_text, e.what()));
    }
    output += literal;
    output += rendered;
  }

  if (values.contains(kComponent) && !used_component) {
    throw InvalidConfigError(fmt::format("component {} given but file template '{}' does not use 'component'",
                                         describe(*values.find(kComponent)), text_));
  }

  // The file name must not look like it has an extension (the formatter adds the real
  // one), nor a URI fragment.
  std::size_t tail_start = output.rfind('/');
  tail_start = tail_start == std::string::npos ? 0 : tail_start + 1;
  std::string tail;
  for (std::size_t k = tail_start; k < output.size(); ++k) {
    char c = output[k];
    if (c == '.') {
      tail += '_';
    } else if (c == '#') {
      tail += "HASH";
    } else {
      tail += c;
    }
  }
  output.replace(tail_start, std::string::npos, tail);

  std::vector<std::string> components = normalize_components(output);
  if (components.empty() || components.front() == "..") {
    throw InvalidArgumentError(fmt::format("file template '{}' gives path '{}', which is {}", text_, output,
                                           components.empty() ? "empty" : "outside the datastore root"));
  }
  return fmt::format("{}", fmt::join(components, "/"));
}

void FileTemplate::validate(const DatasetTypeInfo& dataset_type) const {
  Groups mandatory;
  Groups all;
  for (const Part& part : parts_) {
    if (!part.field) continue;
    for (const Alternative& alt : part.field->alternatives) {
      for (Groups* groups : {&all, part.field->optional ? nullptr : &mandatory}) {
        if (groups == nullptr) continue;
        if (is_special(alt.full)) {
          groups->special.insert(alt.full);
        } else if (alt.secondary) {
          groups->parent.insert(alt.primary);
        } else {
          groups->standard.insert(alt.primary);
        }
      }
    }
  }
  auto fail = [&](const std::string& problem) {
    throw InvalidConfigError(
        fmt::format("file template '{}' does not suit dataset type '{}': {}", text_, dataset_type.name, problem));
  };

  std::set<std::string> with_specials = set_union(set_union(all.standard, all.parent), all.special);
  if (dataset_type.is_component()) {
    if (with_specials.count(std::string(kComponent)) == 0) {
      fail("it is a component but the template has no 'component' field");
    }
  } else if (mandatory.special.count(std::string(kComponent)) != 0) {
    fail("the template requires a component but the dataset type is not a component");
  }

  std::set<std::string> minimal = dataset_type.required_dimensions;
  std::set<std::string> maximal = set_union(minimal, dataset_type.implied_dimensions);
  std::optional<std::string> skypix;
  for (const std::string& name : maximal) {
    if (!TemplateValues::is_skypix_dimension(name)) continue;
    skypix = skypix ? std::nullopt : std::optional<std::string>(name);
    if (!skypix) break;
  }
  if (skypix) {
    for (auto* names : {&minimal, &maximal}) {
      if (names->erase(*skypix) != 0) names->insert("skypix");
    }
  }

  std::set<std::string> unknown;
  for (const std::string& name : set_union(mandatory.standard, mandatory.parent)) {
    if (maximal.count(name) == 0) unknown.insert(name);
  }
  if (!unknown.empty()) {
    fail(fmt::format("non-optional fields {} are not among its dimensions {}", join(unknown), join(maximal)));
  }
  std::set<std::string> used = set_union(all.standard, all.parent);
  std::set<std::string> unused;
  for (const std::string& name : minimal) {
    if (used.count(name) == 0) unused.insert(name);
  }
  if (!unused.empty()) {
    fail(fmt::format("required dimensions {} are not used, so two datasets could get the same path",
                     join(unused)));
  }
}

}  // namespace majordome::datastore
