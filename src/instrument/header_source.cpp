// Reading headers for translation: FITS files and the three dump encodings.
#include "majordome/instrument/header_source.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "header_json.hpp"
#include "header_yaml.hpp"
#include "majordome/core/error.hpp"
#include "majordome/datastore/resource.hpp"
#include "majordome/image/fits_file.hpp"

namespace majordome::instrument {

namespace detail {

image::HeaderValue yaml_scalar(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return std::monostate{};
  if (!node.IsScalar()) throw InvalidArgumentError("a header value must be a scalar");
  const std::string& s = node.Scalar();
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return s;
  static const std::regex kTrue("^(true|True|TRUE|yes|Yes|YES|on|On|ON)$");
  static const std::regex kFalse("^(false|False|FALSE|no|No|NO|off|Off|OFF)$");
  static const std::regex kInt(R"(^[-+]?(0|[1-9][0-9_]*)$)");
  static const std::regex kFloat(R"(^[-+]?([0-9][0-9_]*)?\.?[0-9]*([eE][-+]?[0-9]+)?$)");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return std::monostate{};
  if (std::regex_match(s, kTrue)) return true;
  if (std::regex_match(s, kFalse)) return false;
  try {
    if (std::regex_match(s, kInt)) return static_cast<std::int64_t>(std::stoll(s));
    if (std::regex_match(s, kFloat) && s.find_first_of("0123456789") != std::string::npos)
      return std::stod(s);
  } catch (const std::out_of_range&) {
    return std::stod(s);
  }
  if (s == ".inf" || s == ".Inf" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  return s;
}

void add_card(image::Header& h, const std::string& key, image::HeaderValue value) {
  if (image::is_commentary_keyword(key)) {
    std::string text;
    if (auto* s = std::get_if<std::string>(&value)) text = *s;
    else if (!std::holds_alternative<std::monostate>(value)) text = image::format_header_value(value);
    h.append(image::Card{key, std::monostate{}, text});
    return;
  }
  h.append(image::Card{key, std::move(value), ""});
}

}  // namespace detail

namespace {

using detail::add_card;

image::HeaderValue typed(const YAML::Node& value, const std::string& type) {
  if (!value.IsDefined() || value.IsNull()) return std::monostate{};
  if (type == "String") return value.Scalar();
  if (type == "Bool") return value.as<bool>();
  if (type == "Int" || type == "Long" || type == "LongLong" || type == "Short" || type == "UnsignedInt" ||
      type == "UnsignedLong" || type == "UnsignedLongLong")
    return static_cast<std::int64_t>(value.as<long long>());
  if (type == "Float" || type == "Double") return value.as<double>();
  return detail::yaml_scalar(value);
}

image::Header from_yaml(const YAML::Node& root, const std::string& what) {
  image::Header h;
  if (root.IsSequence()) {  // daf_base PropertyList
    for (std::size_t i = 0; i < root.size(); ++i) {
      const auto& item = root[i];
      if (!item.IsSequence() || item.size() < 3)
        throw CorruptFileError(fmt::format(
            "{}: PropertyList item {} is not [KEY, Type, value, comment]", what, i + 1));
      std::string key = item[0].as<std::string>(), type = item[1].as<std::string>();
      if (item[2].IsSequence()) {  // a repeated keyword: one card per value
        for (const auto& v : item[2]) add_card(h, key, typed(v, type));
      } else {
        add_card(h, key, typed(item[2], type));
      }
    }
    return h;
  }
  if (!root.IsMap())
    throw CorruptFileError(fmt::format(
        "{}: not a header dump (expected a YAML mapping KEY: value or a PropertyList list)", what));
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    if (kv.second.IsSequence()) {
      for (const auto& v : kv.second) add_card(h, key, detail::yaml_scalar(v));
    } else if (kv.second.IsMap()) {
      throw CorruptFileError(fmt::format("{}: value of {} is a mapping, not a header value", what, key));
    } else {
      add_card(h, key, detail::yaml_scalar(kv.second));
    }
  }
  return h;
}

image::Header from_json(const std::string& text, const std::string& what) {
  nlohmann::ordered_json doc;
  try {
    doc = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw CorruptFileError(fmt::format("{}: malformed JSON header dump: {}", what, e.what()));
  }
  if (!doc.is_object()) throw CorruptFileError(fmt::format("{}: a JSON header dump must be an object", what));
  if (auto it = doc.find("__CONTENT__"); it != doc.end() && *it != "metadata")
    throw CorruptFileError(fmt::format(
        "{}: this JSON holds {} content, not a raw header (\"__CONTENT__\": \"metadata\")", what, it->dump()));
  image::Header h;
  for (const auto& [key, v] : doc.items()) {
    if (key == "__CONTENT__") continue;
    detail::add_json_cards(h, key, v, what);
  }
  return h;
}

image::Header from_fits(const std::filesystem::path& path) {
  image::FitsFile file(path, image::FitsMode::kRead);
  image::Header header = file.read_header();
  // Move straight to the first extension: counting HDUs would walk every amplifier HDU of a raw.
  try {
    file.move_to(1);
  } catch (const NotFoundError&) {
    return header;  // a single-HDU file
  }
  for (const auto& card : file.read_header()) {
    if (card.is_commentary() || image::is_structural_keyword(card.keyword)) continue;
    header.set(card.keyword, card.value, card.comment);
  }
  return header;
}

}  // namespace

image::Header parse_header_dump(const std::string& text, const std::string& what) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw CorruptFileError(fmt::format("{}: empty header dump", what));
  if (text[first] == '{') return from_json(text, what);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw CorruptFileError(fmt::format("{}: malformed YAML header dump: {}", what, e.what()));
  }
  try {
    return from_yaml(root, what);
  } catch (const YAML::Exception& e) {
    throw CorruptFileError(fmt::format("{}: malformed YAML header dump: {}", what, e.what()));
  } catch (const InvalidArgumentError& e) {
    throw CorruptFileError(fmt::format("{}: {}", what, e.what()));
  }
}

namespace {

constexpr std::size_t kBlock = 2880;
constexpr std::size_t kCard = 80;

// The bytes of the header that starts at `offset` of a remote FITS file, read a few blocks
// at a time until its END card (empty if the file ends there: no such HDU).
std::string remote_fits_header(const datastore::ResourcePath& file, std::int64_t offset, std::string first) {
  constexpr std::size_t kChunk = 10 * kBlock;
  std::string bytes = std::move(first);
  for (std::size_t scanned = 0;;) {
    for (; scanned + kCard <= bytes.size(); scanned += kCard) {
      const std::string_view card(bytes.data() + scanned, kCard);
      if (card.substr(0, 8) == "END     ") {
        const std::size_t end = (scanned / kBlock + 1) * kBlock;
        if (bytes.size() < end) bytes += datastore::read_resource_range(file, offset + bytes.size(), end - bytes.size());
        bytes.resize(std::min(bytes.size(), end));
        return bytes;
      }
    }
    if (bytes.size() > 1000 * kBlock)
      throw CorruptFileError(fmt::format("{}: no END card in the first {} bytes of a header", file.str(), bytes.size()));
    std::string more = datastore::read_resource_range(file, offset + static_cast<std::int64_t>(bytes.size()), kChunk);
    if (more.empty()) {
      if (bytes.empty()) return bytes;
      throw CorruptFileError(fmt::format("{}: the file ends inside a header (no END card)", file.str()));
    }
    bytes += more;
  }
}

// The size in bytes of the data that follows `header` (FITS standard 4.4.1), padded to whole
// blocks. CorruptFileError naming `what` for a header without the keywords it needs or with
// values no FITS file can have.
std::int64_t fits_data_size(const std::string& header, const std::string& what) {
  std::map<std::string, std::int64_t> ints;
  bool groups = false;
  for (std::size_t i = 0; i + kCard <= header.size(); i += kCard) {
    const std::string_view card(header.data() + i, kCard);
    if (card.substr(8, 2) != "= ") continue;
    std::string key(card.substr(0, 8));
    key.erase(key.find_last_not_of(' ') + 1);
    std::string value(card.substr(10, 70));
    value = value.substr(0, value.find('/'));
    if (key == "GROUPS") groups = value.find('T') != std::string::npos;
    if (key != "BITPIX" && key != "PCOUNT" && key != "GCOUNT" && !key.starts_with("NAXIS")) continue;
    try {
      std::size_t used = 0;
      ints[key] = std::stoll(value, &used);
      if (value.find_first_not_of(' ', used) != std::string::npos) throw std::invalid_argument(key);
    } catch (const std::exception&) {
      throw CorruptFileError(fmt::format("{}: {} is not an integer", what, key));
    }
  }
  auto get = [&](const std::string& key, std::int64_t fallback, bool required) {
    auto it = ints.find(key);
    if (it == ints.end()) {
      if (required) throw CorruptFileError(fmt::format("{}: the header has no {}", what, key));
      return fallback;
    }
    return it->second;
  };
  const std::int64_t bitpix = get("BITPIX", 0, true);
  const std::int64_t naxis = get("NAXIS", 0, true);
  if (bitpix != 8 && bitpix != 16 && bitpix != 32 && bitpix != 64 && bitpix != -32 && bitpix != -64)
    throw CorruptFileError(fmt::format("{}: BITPIX = {} is not a FITS value", what, bitpix));
  if (naxis < 0 || naxis > 999) throw CorruptFileError(fmt::format("{}: NAXIS = {} is not a FITS value", what, naxis));
  if (naxis == 0) return 0;
  constexpr std::int64_t kMax = std::int64_t{1} << 50;  // a petabyte: no file of ours is bigger
  std::int64_t count = 1;
  // Random groups (NAXIS1 = 0, GROUPS = T): the first axis counts for nothing.
  for (std::int64_t k = groups ? 2 : 1; k <= naxis; ++k) {
    const std::int64_t n = get(fmt::format("NAXIS{}", k), 0, true);
    if (n < 0 || n > kMax || (n > 0 && count > kMax / n))
      throw CorruptFileError(fmt::format("{}: NAXIS{} = {} is not a size a file can have", what, k, n));
    count *= n;
  }
  const std::int64_t gcount = get("GCOUNT", 1, false), pcount = get("PCOUNT", 0, false);
  if (gcount < 0 || pcount < 0 || gcount > kMax || pcount > kMax)
    throw CorruptFileError(fmt::format("{}: PCOUNT/GCOUNT out of range", what));
  const long double bytes = static_cast<long double>(std::abs(bitpix) / 8) * static_cast<long double>(gcount) *
                            static_cast<long double>(pcount + count);
  if (bytes > static_cast<long double>(kMax))
    throw CorruptFileError(fmt::format("{}: the header describes {} bytes of data", what, static_cast<double>(bytes)));
  const auto b = static_cast<std::int64_t>(bytes);
  return (b + static_cast<std::int64_t>(kBlock) - 1) / static_cast<std::int64_t>(kBlock) * static_cast<std::int64_t>(kBlock);
}

// A remote FITS file's primary and first extension headers, fetched with ranged reads (a few
// tens of KB, whatever the pixels weigh), put where they belong in a sparse local file, and
// read from there as a local file's are (so compressed extensions are read as cfitsio sees
// them).
image::Header remote_fits(const datastore::ResourcePath& file, std::string first) {
  const std::string primary = remote_fits_header(file, 0, first);
  const std::int64_t next = static_cast<std::int64_t>(primary.size()) + fits_data_size(primary, file.str());  // >= 0
  // What the first read brought past the primary header is the start of the extension's.
  std::string ahead = next < static_cast<std::int64_t>(first.size()) ? first.substr(static_cast<std::size_t>(next)) : "";
  const std::string extension = remote_fits_header(file, next, std::move(ahead));
  std::string pattern = (std::filesystem::temp_directory_path() / "majordome-header-XXXXXX").string();
  std::vector<char> templ(pattern.begin(), pattern.end());
  templ.push_back('\0');
  const int fd = ::mkstemp(templ.data());
  if (fd < 0) throw IoError(fmt::format("cannot make a temporary file to read {}: {}", file.str(), std::strerror(errno)));
  const std::filesystem::path local(templ.data());
  struct Cleanup {
    int fd;
    std::filesystem::path path;
    ~Cleanup() {
      ::close(fd);
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  } cleanup{fd, local};
  auto put = [&](const std::string& bytes, std::int64_t at) {
    if (::pwrite(fd, bytes.data(), bytes.size(), at) != static_cast<ssize_t>(bytes.size()))
      throw IoError(fmt::format("cannot write a temporary file to read {}: {}", file.str(), std::strerror(errno)));
  };
  put(primary, 0);
  if (!extension.empty()) {
    put(extension, next);
    // The extension's data, as a hole: cfitsio may look at where the HDU ends.
    const std::int64_t end = next + static_cast<std::int64_t>(extension.size()) + fits_data_size(extension, file.str());
    if (::ftruncate(fd, end) != 0)
      throw IoError(fmt::format("cannot size a temporary file to read {}: {}", file.str(), std::strerror(errno)));
  } else if (next > static_cast<std::int64_t>(primary.size())) {
    if (::ftruncate(fd, next) != 0)
      throw IoError(fmt::format("cannot size a temporary file to read {}: {}", file.str(), std::strerror(errno)));
  }
  try {
    return from_fits(local);
  } catch (const Error& e) {
    std::string message = e.what();
    if (auto at = message.find(local.string()); at != std::string::npos) message.replace(at, local.string().size(), file.str());
    throw Error(e.code(), message);
  }
}

image::Header read_remote_header(const datastore::ResourcePath& file, HeaderFormat& format) {
  std::string first = datastore::read_resource_range(file, 0, 10 * kBlock);
  if (first.empty() && !datastore::stat_resource(file).exists)
    throw NotFoundError(fmt::format("{}: no such file", file.str()));
  const bool gzip = first.size() >= 2 && static_cast<unsigned char>(first[0]) == 0x1f &&
                    static_cast<unsigned char>(first[1]) == 0x8b;
  if (first.starts_with("SIMPLE  =")) {
    format = HeaderFormat::kFits;
    return remote_fits(file, std::move(first));
  }
  if (gzip) {  // the whole file is needed to gunzip it
    format = HeaderFormat::kFits;
    const datastore::LocalCopy local(file);  // a temporary of a unique name, removed after
    return from_fits(local.path());
  }
  // A header dump is text: binary content is refused before the rest is fetched.
  if (first.find('\0') != std::string::npos)
    throw CorruptFileError(
        fmt::format("{}: neither a FITS file nor a YAML/JSON header dump (binary content)", file.str()));
  std::string text = first.size() < 10 * kBlock ? first : datastore::read_resource(file);
  if (text.find('\0') != std::string::npos)
    throw CorruptFileError(
        fmt::format("{}: neither a FITS file nor a YAML/JSON header dump (binary content)", file.str()));
  auto non_blank = text.find_first_not_of(" \t\r\n");
  format = non_blank != std::string::npos && text[non_blank] == '{'                ? HeaderFormat::kJson
           : text.find("!<lsst.daf.base.PropertyList>") != std::string::npos ? HeaderFormat::kPropertyListYaml
                                                                             : HeaderFormat::kPlainYaml;
  return parse_header_dump(text, file.str());
}

}  // namespace

image::Header read_header_file(const std::filesystem::path& path, HeaderFormat& format) {
  if (datastore::ResourcePath::looks_like_uri(path.string())) {
    const auto location = datastore::ResourcePath::parse(path.string());
    if (location.is_remote()) return read_remote_header(location, format);
    return read_header_file(location.local_path(), format);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) throw NotFoundError(fmt::format("{}: no such file", path.string()));
    throw IoError(fmt::format("{}: cannot be read", path.string()));
  }
  char magic[9] = {};
  in.read(magic, 9);
  std::string head(magic, static_cast<std::size_t>(in.gcount()));
  bool gzip = head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
              static_cast<unsigned char>(head[1]) == 0x8b;
  if (head.starts_with("SIMPLE  =") || gzip) {
    format = HeaderFormat::kFits;
    return from_fits(path);
  }
  in.seekg(0);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.find('\0') != std::string::npos)
    throw CorruptFileError(fmt::format(
        "{}: neither a FITS file nor a YAML/JSON header dump (binary content)", path.string()));
  auto first = text.find_first_not_of(" \t\r\n");
  format = first != std::string::npos && text[first] == '{' ? HeaderFormat::kJson
           : text.find("!<lsst.daf.base.PropertyList>") != std::string::npos ? HeaderFormat::kPropertyListYaml
                                                                             : HeaderFormat::kPlainYaml;
  return parse_header_dump(text, path.string());
}

image::Header read_header_file(const std::filesystem::path& path) {
  HeaderFormat format{};
  return read_header_file(path, format);
}

}  // namespace majordome::instrument
