// FitsFile::write_catalog / read_catalog: Catalog ↔ FITS BINTABLE.
#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fits_file_impl.hpp"
#include "majordome/core/error.hpp"
#include "majordome/image/fits_file.hpp"

namespace majordome::image {

namespace {

constexpr std::string_view kAstropyBegin = "--BEGIN-ASTROPY-SERIALIZED-COLUMNS--";
constexpr std::string_view kAstropyEnd = "--END-ASTROPY-SERIALIZED-COLUMNS--";

// Bytes one element of a column takes in a row (FITS standard, table 18).
std::size_t element_bytes(ColumnType t) {
  switch (t) {
    case ColumnType::kBool: return 1;
    case ColumnType::kInt32: return 4;
    case ColumnType::kInt64: return 8;
    case ColumnType::kFloat: return 4;
    case ColumnType::kDouble: return 8;
    case ColumnType::kString: return 1;
  }
  return 8;
}

char tform_code(ColumnType t) {
  switch (t) {
    case ColumnType::kBool: return 'L';
    case ColumnType::kInt32: return 'J';
    case ColumnType::kInt64: return 'K';
    case ColumnType::kFloat: return 'E';
    case ColumnType::kDouble: return 'D';
    case ColumnType::kString: return 'A';
  }
  return 'D';
}

std::string yaml_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// astropy keeps column descriptions only in its serialized-columns block (COMMENT cards
// holding YAML, lines longer than 70 characters continued with a trailing backslash).
void add_astropy_descriptions(const Schema& schema, Header& header) {
  std::vector<std::string> lines = {std::string(kAstropyBegin), "datatype:"};
  for (const auto& c : schema.columns()) {
    std::string entry = "- {name: " + yaml_quote(c.name);
    if (!c.doc.empty()) entry += ", description: " + yaml_quote(c.doc);
    lines.push_back(entry + "}");
  }
  lines.emplace_back("meta:");
  lines.emplace_back("  __serialized_columns__: {}");
  lines.emplace_back(kAstropyEnd);
  for (const auto& line : lines) {
    std::size_t pos = 0;
    do {
      std::string piece = line.substr(pos, 70);
      pos += 70;
      if (pos < line.size()) piece += '\\';
      header.add_comment(piece);
    } while (pos < line.size());
  }
}

// Column descriptions from an astropy serialized-columns block (name → description).
std::vector<std::pair<std::string, std::string>> parse_astropy_descriptions(const Header& h) {
  std::vector<std::string> lines;
  bool inside = false;
  bool continued = false;
  for (const auto& card : h) {
    if (card.keyword != "COMMENT") continue;
    std::string text = card.comment;
    if (text.rfind(kAstropyBegin, 0) == 0) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (text.rfind(kAstropyEnd, 0) == 0) break;
    const bool next_continued = text.size() == 71 && text.back() == '\\';
    if (next_continued) text.pop_back();
    if (continued && !lines.empty()) {
      lines.back() += text;
    } else {
      lines.push_back(text);
    }
    continued = next_continued;
  }
  // Only the simple flow mappings written by astropy or by us are understood:
  // - {name: NAME, ..., description: TEXT, ...}
  auto value_of = [](const std::string& line, std::string_view key) -> std::optional<std::string> {
    const std::string needle = std::string(key) + ": ";
    std::size_t p = line.find(needle);
    while (p != std::string::npos && p > 0 && line[p - 1] != '{' && line[p - 1] != ' ') {
      p = line.find(needle, p + 1);
    }
    if (p == std::string::npos) return std::nullopt;
    p += needle.size();
    std::string out;
    if (p < line.size() && (line[p] == '\'' || line[p] == '"')) {
      const char q = line[p++];
      while (p < line.size()) {
        if (line[p] == q) {
          if (q == '\'' && p + 1 < line.size() && line[p + 1] == '\'') {
            out += '\'';
            p += 2;
            continue;
          }
          break;
        }
        out += line[p++];
      }
      return out;
    }
    while (p < line.size() && line[p] != ',' && line[p] != '}') out += line[p++];
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  };
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& line : lines) {
    if (line.rfind("- {", 0) != 0) continue;
    auto name = value_of(line, "name");
    auto desc = value_of(line, "description");
    if (name && desc) out.emplace_back(*name, *desc);
  }
  return out;
}

}  // namespace

int FitsFile::write_catalog(const Catalog& catalog, std::string_view extname) {
  impl_->require_writable();
  fitsfile* f = impl_->fptr;
  const Schema& schema = catalog.schema();
  const std::size_t ncols = schema.size();
  std::vector<std::string> ttype;
  std::vector<std::string> tform;
  std::vector<std::string> tunit;
  std::vector<int> string_width(ncols, 0);
  std::vector<std::size_t> offset(ncols, 0);  // of each column in a row, in bytes
  std::size_t row_bytes = 0;
  for (std::size_t i = 0; i < ncols; ++i) {
    const auto& c = schema[i];
    ttype.push_back(c.name);
    tunit.push_back(c.unit);
    offset[i] = row_bytes;
    if (c.type == ColumnType::kString) {
      std::size_t longest = 0;
      const auto& values = catalog.strings(c.name);
      for (std::size_t r = 0; r < values.size(); ++r) {
        longest = std::max(longest, values[r].size());
        if (values[r].find('\0') != std::string::npos) {
          throw InvalidArgumentError(impl_->path.string() + ": column '" + c.name + "' row " +
                                     std::to_string(r) + " holds a NUL character, which ends a "
                                     "FITS string: the rest would be lost");
        }
      }
      if (c.count > 0 && longest > static_cast<std::size_t>(c.count)) {
        throw InvalidArgumentError(impl_->path.string() + ": column '" + c.name +
                                   "' holds a string of " + std::to_string(longest) +
                                   " bytes, more than its maximum " + std::to_string(c.count));
      }
      string_width[i] = c.count > 0 ? c.count : std::max<int>(1, static_cast<int>(longest));
      tform.push_back(std::to_string(string_width[i]) + "A");
      row_bytes += static_cast<std::size_t>(string_width[i]);
    } else {
      tform.push_back((c.count > 1 ? std::to_string(c.count) : std::string()) + tform_code(c.type));
      row_bytes += static_cast<std::size_t>(c.count) * element_bytes(c.type);
    }
  }
  auto pointers = [](std::vector<std::string>& v) {
    std::vector<char*> p;
    for (auto& s : v) p.push_back(s.data());
    return p;
  };
  auto ttype_p = pointers(ttype);
  auto tform_p = pointers(tform);
  auto tunit_p = pointers(tunit);
  std::string ext(extname);
  int status = 0;
  ffcrtb(f, BINARY_TBL, 0, static_cast<int>(ncols), ttype_p.data(), tform_p.data(),
         tunit_p.data(), ext.empty() ? nullptr : ext.c_str(), &status);
  impl_->check(status, "creating the binary table", detail::Failure::kIo);
  LONGLONG naxis1 = 0;
  ffgkyjj(f, "NAXIS1", &naxis1, nullptr, &status);
  impl_->check(status, "reading the row width", detail::Failure::kIo);
  if (static_cast<std::size_t>(naxis1) != row_bytes) {  // string cells are placed by these offsets
    throw InternalError(impl_->path.string() + ": rows are " + std::to_string(naxis1) +
                        " bytes for cfitsio but " + std::to_string(row_bytes) + " by our count");
  }

  Header extra;
  bool any_doc = false;
  for (std::size_t i = 0; i < ncols; ++i) {
    const auto& c = schema[i];
    const std::string n = std::to_string(i + 1);
    if (!c.doc.empty()) {
      // The doc also becomes the TTYPE comment, which fitsheader and ds9 show.
      std::string key = "TTYPE" + n;
      std::string comment = c.doc.substr(0, 47);
      ffmcom(f, key.c_str(), comment.c_str(), &status);
      extra.set("TDOC" + n, c.doc);
      any_doc = true;
    }
    if (!c.display_format.empty()) extra.set("TDISP" + n, c.display_format);
  }
  // TDOC/TDISP are "structural" for reading, so write them directly.
  for (const auto& card : extra) {
    for (const auto& image : detail::format_card(card)) ffprec(f, image.c_str(), &status);
  }
  for (std::size_t i = 0; i < ncols; ++i) {
    const auto& c = schema[i];
    if (c.shape.size() > 1) {
      std::vector<long> dims(c.shape.begin(), c.shape.end());
      ffptdm(f, static_cast<int>(i + 1), static_cast<int>(dims.size()), dims.data(), &status);
    }
  }
  impl_->check(status, "writing the column keywords", detail::Failure::kIo);
  Header meta = catalog.metadata();
  if (!ext.empty()) meta.erase("EXTNAME");
  if (any_doc) add_astropy_descriptions(schema, meta);
  impl_->write_cards(meta, false);

  const auto rows = static_cast<LONGLONG>(catalog.size());
  for (std::size_t i = 0; i < ncols && rows > 0; ++i) {
    const auto& c = schema[i];
    const int col = static_cast<int>(i + 1);
    const LONGLONG n = rows * (c.type == ColumnType::kString ? 1 : c.count);
    switch (c.type) {
      case ColumnType::kBool: {
        auto v = catalog.column<bool>(c.name);
        std::vector<char> chars(v.size());
        std::ranges::transform(v, chars.begin(), [](bool b) { return static_cast<char>(b ? 1 : 0); });
        ffpcl(f, TLOGICAL, col, 1, 1, n, chars.data(), &status);
        break;
      }
      case ColumnType::kInt32: {
        auto v = catalog.column<std::int32_t>(c.name);
        ffpcl(f, TINT, col, 1, 1, n, const_cast<std::int32_t*>(v.data()), &status);
        break;
      }
      case ColumnType::kInt64: {
        auto v = catalog.column<std::int64_t>(c.name);
        std::vector<LONGLONG> tmp(v.begin(), v.end());
        ffpcl(f, TLONGLONG, col, 1, 1, n, tmp.data(), &status);
        break;
      }
      case ColumnType::kFloat: {
        auto v = catalog.column<float>(c.name);
        ffpcl(f, TFLOAT, col, 1, 1, n, const_cast<float*>(v.data()), &status);
        break;
      }
      case ColumnType::kDouble: {
        auto v = catalog.column<double>(c.name);
        ffpcl(f, TDOUBLE, col, 1, 1, n, const_cast<double*>(v.data()), &status);
        break;
      }
      case ColumnType::kString: {
        // cfitsio pads a string to the column width with blanks, which astropy keeps
        // ('star  ' != 'star'); the FITS standard lets a NUL end the string instead, and
        // every reader (astropy, cfitsio, ours) stops there. So the bytes go in as they are.
        const auto width = static_cast<std::size_t>(string_width[i]);
        std::vector<unsigned char> cell(width);
        const auto& values = catalog.strings(c.name);
        for (LONGLONG r = 0; r < n && status == 0; ++r) {
          const std::string& v = values[static_cast<std::size_t>(r)];
          std::ranges::fill(cell, 0);
          std::ranges::copy(v, cell.begin());
          ffptbb(f, r + 1, static_cast<LONGLONG>(offset[i]) + 1, static_cast<LONGLONG>(width), cell.data(),
                 &status);
        }
        break;
      }
    }
    impl_->check(status, "writing column '" + c.name + "'", detail::Failure::kIo);
  }
  ffflus(f, &status);
  impl_->check(status, "flushing the table", detail::Failure::kIo);
  return impl_->current();
}

Catalog FitsFile::read_catalog() { return read_catalog({}); }

Catalog FitsFile::read_catalog(const std::vector<std::string>& columns) {
  impl_->require_open();
  fitsfile* f = impl_->fptr;
  const HduType type = hdu_type();
  if (type == HduType::kImage) {
    throw InvalidArgumentError(impl_->where() + ": the HDU is an image, not a table");
  }
  const Header header = read_header();
  int status = 0;
  LONGLONG nrows = 0;
  int ncols = 0;
  ffgnrwll(f, &nrows, &status);
  ffgncl(f, &ncols, &status);
  impl_->check(status, "reading the table size");
  const auto astropy_docs = parse_astropy_descriptions(header);

  Schema schema;
  struct Source {
    int fits_type;   // cfitsio datatype to read with
    bool bits;       // an X column
    long repeat;
  };
  std::vector<Source> sources;
  std::map<std::string, int> column_of;  // name → TTYPE index
  for (int col = 1; col <= ncols; ++col) {
    const std::string n = std::to_string(col);
    ColumnSpec spec;
    spec.name = header.find_string("TTYPE" + n).value_or("col" + n);
    if (const auto [seen, fresh] = column_of.emplace(spec.name, col); !fresh) {
      throw CorruptFileError(impl_->where() + ": column '" + spec.name + "' appears twice (TTYPE" +
                             std::to_string(seen->second) + " and TTYPE" + n + "); columns are found by name");
    }
    spec.unit = header.find_string("TUNIT" + n).value_or("");
    spec.display_format = header.find_string("TDISP" + n).value_or("");
    spec.doc = header.find_string("TDOC" + n).value_or(header.find_string("TCOMM" + n).value_or(""));
    if (spec.doc.empty()) {
      for (const auto& [name, desc] : astropy_docs) {
        if (name == spec.name) spec.doc = desc;
      }
    }
    int typecode = 0;
    LONGLONG repeat = 0;
    LONGLONG width = 0;
    ffeqtyll(f, col, &typecode, &repeat, &width, &status);
    impl_->check(status, "reading the type of column '" + spec.name + "'");
    auto unsupported = [&](const std::string& what) {
      throw UnsupportedError(impl_->where() + ": column '" + spec.name + "' (TFORM " +
                             header.find_string("TFORM" + n).value_or("?") + ") is " + what +
                             ", which majordome tables do not hold");
    };
    if (typecode < 0) unsupported("a variable-length array");
    Source src{0, false, static_cast<long>(repeat)};
    switch (typecode) {
      case TBIT: spec.type = ColumnType::kBool; src.bits = true; break;
      case TLOGICAL: spec.type = ColumnType::kBool; src.fits_type = TLOGICAL; break;
      case TBYTE:
      case TSBYTE:
      case TSHORT:
      case TUSHORT:
      case TINT:
      case TLONG:
        spec.type = ColumnType::kInt32;
        src.fits_type = TINT;
        break;
      case TUINT:
      case TULONG:
      case TLONGLONG:
        spec.type = ColumnType::kInt64;
        src.fits_type = TLONGLONG;
        break;
      case TFLOAT: spec.type = ColumnType::kFloat; src.fits_type = TFLOAT; break;
      case TDOUBLE: spec.type = ColumnType::kDouble; src.fits_type = TDOUBLE; break;
      case TSTRING:
        spec.type = ColumnType::kString;
        src.fits_type = TSTRING;
        if (width < repeat) unsupported("an array of strings");
        break;
      case TULONGLONG: unsupported("unsigned 64-bit"); break;
      default: unsupported("complex"); break;
    }
    if (spec.type == ColumnType::kString) {
      spec.count = static_cast<int>(repeat);
    } else {
      spec.count = static_cast<int>(std::max<LONGLONG>(repeat, 1));
      if (repeat == 0) unsupported("an empty array (repeat 0)");
      int naxis = 0;
      std::array<long, 8> dims{};
      ffgtdm(f, col, static_cast<int>(dims.size()), &naxis, dims.data(), &status);
      if (status == 0 && naxis > 1) spec.shape.assign(dims.begin(), dims.begin() + naxis);
      status = 0;
      ffcmsg();
    }
    schema.add(std::move(spec));
    sources.push_back(src);
  }

  // Only the columns asked for are read: cfitsio reads each column's bytes alone.
  std::vector<int> selected;
  if (columns.empty()) {
    for (int col = 1; col <= ncols; ++col) selected.push_back(col);
  } else {
    Schema chosen;
    for (const auto& name : columns) {
      auto it = column_of.find(name);
      if (it == column_of.end()) {
        std::string known;
        for (const auto& spec : schema.columns()) known += (known.empty() ? "" : ", ") + spec.name;
        throw NotFoundError(impl_->where() + ": no column '" + name + "'; the table has: " + known);
      }
      chosen.add(schema[static_cast<std::size_t>(it->second - 1)]);
      selected.push_back(it->second);
    }
    schema = std::move(chosen);
  }
  Catalog catalog(schema, static_cast<std::size_t>(nrows));
  for (std::size_t index = 0; index < selected.size() && nrows > 0; ++index) {
    const int col = selected[index];
    const auto& spec = schema[index];
    const auto& src = sources[static_cast<std::size_t>(col - 1)];
    const LONGLONG n = nrows * (spec.type == ColumnType::kString ? 1 : spec.count);
    int anynul = 0;
    switch (spec.type) {
      case ColumnType::kBool: {
        auto out = catalog.column<bool>(spec.name);
        std::vector<char> chars(static_cast<std::size_t>(n));
        if (src.bits) {
          for (LONGLONG r = 0; r < nrows && status == 0; ++r) {
            ffgcx(f, col, r + 1, 1, spec.count, chars.data() + r * spec.count, &status);
          }
        } else {
          char nul = 0;
          ffgcv(f, TLOGICAL, col, 1, 1, n, &nul, chars.data(), &anynul, &status);
        }
        std::ranges::transform(chars, out.begin(), [](char c) { return c != 0; });
        break;
      }
      case ColumnType::kInt32: {
        auto out = catalog.column<std::int32_t>(spec.name);
        ffgcv(f, TINT, col, 1, 1, n, nullptr, out.data(), &anynul, &status);
        break;
      }
      case ColumnType::kInt64: {
        auto out = catalog.column<std::int64_t>(spec.name);
        std::vector<LONGLONG> tmp(static_cast<std::size_t>(n));
        ffgcv(f, TLONGLONG, col, 1, 1, n, nullptr, tmp.data(), &anynul, &status);
        std::ranges::copy(tmp, out.begin());
        break;
      }
      case ColumnType::kFloat: {
        auto out = catalog.column<float>(spec.name);
        ffgcv(f, TFLOAT, col, 1, 1, n, nullptr, out.data(), &anynul, &status);
        break;
      }
      case ColumnType::kDouble: {
        auto out = catalog.column<double>(spec.name);
        ffgcv(f, TDOUBLE, col, 1, 1, n, nullptr, out.data(), &anynul, &status);
        break;
      }
      case ColumnType::kString: {
        auto& out = catalog.strings(spec.name);
        const std::size_t w = static_cast<std::size_t>(std::max(spec.count, 0)) + 1;
        std::vector<char> buffer(static_cast<std::size_t>(n) * w, '\0');
        std::vector<char*> p;
        for (LONGLONG r = 0; r < n; ++r) p.push_back(buffer.data() + r * static_cast<LONGLONG>(w));
        char empty[] = "";
        ffgcv(f, TSTRING, col, 1, 1, n, empty, p.data(), &anynul, &status);
        for (LONGLONG r = 0; r < n; ++r) {
          std::string s(p[static_cast<std::size_t>(r)]);
          while (!s.empty() && s.back() == ' ') s.pop_back();
          out[static_cast<std::size_t>(r)] = std::move(s);
        }
        break;
      }
    }
    impl_->check(status, "reading column '" + spec.name + "'");
  }

  // Everything else in the header is table metadata.
  bool in_astropy_block = false;
  for (const auto& card : header) {
    if (card.keyword == "COMMENT") {
      if (card.comment.rfind(kAstropyBegin, 0) == 0) in_astropy_block = true;
      const bool was_inside = in_astropy_block;
      if (card.comment.rfind(kAstropyEnd, 0) == 0) in_astropy_block = false;
      if (was_inside) continue;
    }
    if (!card.is_commentary() && is_structural_keyword(card.keyword)) continue;
    catalog.metadata().append(card);
  }
  return catalog;
}

}  // namespace majordome::image
