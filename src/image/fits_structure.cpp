#include "fits_structure.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome::image::detail {

namespace {

constexpr std::uint64_t kBlockSize = 2880;
constexpr std::size_t kCardSize = 80;
constexpr std::uint64_t kMaxDataBytes = std::numeric_limits<std::int64_t>::max();

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string_view keyword_of(std::string_view card) { return trim(card.substr(0, 8)); }

// The value field of a card with a value indicator ("= " in columns 9-10), without its
// comment; nullopt without a value indicator.
std::optional<std::string_view> value_of(std::string_view card) {
  if (card.substr(8, 2) != "= ") return std::nullopt;
  std::string_view v = trim(card.substr(10));
  // A string value runs to its closing quote ('' is a quote inside it); any other value
  // ends at the comment.
  std::size_t from = 0;
  if (!v.empty() && v.front() == '\'') {
    for (from = 1; from < v.size(); ++from) {
      if (v[from] != '\'') continue;
      if (from + 1 < v.size() && v[from + 1] == '\'') {
        ++from;
        continue;
      }
      break;
    }
  }
  if (const auto slash = v.find('/', from); slash != std::string_view::npos) v = v.substr(0, slash);
  return trim(v);
}

std::optional<std::int64_t> integer_of(std::string_view card) {
  const auto v = value_of(card);
  if (!v || v->empty()) return std::nullopt;
  std::string_view digits = *v;
  if (digits.front() == '+') digits.remove_prefix(1);
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return out;
}

// What one header holds that matters for its structure.
struct ScannedHeader {
  std::vector<std::string> leading;  // the first cards, as many as the mandatory ones can take
  std::optional<std::string> pcount, gcount, groups;  // those cards, wherever they are
  bool has_end = false;
  std::uint64_t end_offset = 0;  // first byte after the header's last block
};

// Maximum mandatory cards: SIMPLE/XTENSION, BITPIX, NAXIS and up to 999 NAXISn.
constexpr std::size_t kMaxLeadingCards = 3 + 999;

ScannedHeader scan_header(const FitsBytes& bytes, std::uint64_t offset) {
  ScannedHeader out;
  std::array<char, kBlockSize> block{};
  for (std::uint64_t at = offset;; at += kBlockSize) {
    if (at >= bytes.size) return out;
    const std::size_t n = bytes.read(at, block);
    if (n < kBlockSize) return out;  // a header ends on a whole block
    for (std::size_t c = 0; c < kBlockSize; c += kCardSize) {
      const std::string_view card(block.data() + c, kCardSize);
      const auto key = keyword_of(card);
      if (key == "END" && trim(card.substr(3)).empty()) {
        out.has_end = true;
        out.end_offset = at + kBlockSize;
        return out;
      }
      if (out.leading.size() < kMaxLeadingCards) out.leading.emplace_back(card);
      if (key == "PCOUNT") out.pcount.emplace(card);
      else if (key == "GCOUNT") out.gcount.emplace(card);
      else if (key == "GROUPS") out.groups.emplace(card);
    }
  }
}

// Thrown when a mandatory card lies beyond the end of a header cut short.
struct CutShort {};

class HduChecker {
 public:
  HduChecker(const std::string& name, int hdu, const ScannedHeader& h)
      : where_(fmt::format("{}: HDU {}", name, hdu)), h_(h) {}

  [[noreturn]] void fail(const std::string& what) const { throw CorruptFileError(where_ + ": " + what); }

  const std::string& card(std::size_t i, std::string_view keyword) const {
    if (i >= h_.leading.size()) {
      if (!h_.has_end) throw CutShort{};
      fail(fmt::format("{} is missing: the header has only {} card(s) before END (the header is damaged)",
                       keyword, h_.leading.size()));
    }
    const auto& c = h_.leading[i];
    if (keyword_of(c) != keyword)
      fail(fmt::format("{} is missing: card {} should be {} but is '{}' (the header is damaged)", keyword, i + 1,
                       keyword, trim(c)));
    return c;
  }

  std::int64_t integer(std::string_view card, std::string_view keyword) const {
    const auto v = integer_of(card);
    if (!v) fail(fmt::format("{} = '{}' is not an integer (the header is damaged)", keyword,
                             value_of(card).value_or("")));
    return *v;
  }

 private:
  std::string where_;
  const ScannedHeader& h_;
};

// The size in bytes of the data unit the mandatory keywords of `h` describe; throws
// CorruptFileError for a keyword that is wrong, CutShort for one past a header cut short.
std::uint64_t data_size(const ScannedHeader& h, const HduChecker& check, bool primary) {
  const auto& first = check.card(0, primary ? "SIMPLE" : "XTENSION");
  if (primary && value_of(first) != "T" && value_of(first) != "F")
    check.fail(fmt::format("SIMPLE = '{}' is not a logical value T (the file is damaged)",
                           value_of(first).value_or("")));
  if (!primary && !value_of(first)) check.fail("XTENSION has no value (the header is damaged)");

  const auto bitpix = check.integer(check.card(1, "BITPIX"), "BITPIX");
  if (bitpix != 8 && bitpix != 16 && bitpix != 32 && bitpix != 64 && bitpix != -32 && bitpix != -64)
    check.fail(fmt::format("BITPIX = {} is not a FITS BITPIX (8, 16, 32, 64, -32 or -64)", bitpix));

  const auto naxis = check.integer(check.card(2, "NAXIS"), "NAXIS");
  if (naxis < 0 || naxis > 999) check.fail(fmt::format("NAXIS = {} is not a number of axes (0 to 999)", naxis));
  if (naxis > kMaxCfitsioAxes)
    check.fail(fmt::format("NAXIS = {}: more axes than cfitsio can read safely (at most {})", naxis,
                           kMaxCfitsioAxes));

  std::vector<std::uint64_t> axes;
  for (std::int64_t i = 1; i <= naxis; ++i) {
    const auto keyword = fmt::format("NAXIS{}", i);
    const auto length = check.integer(check.card(static_cast<std::size_t>(2 + i), keyword), keyword);
    if (length < 0) check.fail(fmt::format("{} = {} is negative", keyword, length));
    axes.push_back(static_cast<std::uint64_t>(length));
  }
  if (!h.has_end) throw CutShort{};

  std::int64_t pcount = 0, gcount = 1;
  if (h.pcount) pcount = check.integer(*h.pcount, "PCOUNT");
  if (h.gcount) gcount = check.integer(*h.gcount, "GCOUNT");
  if (pcount < 0) check.fail(fmt::format("PCOUNT = {} is negative", pcount));
  if (gcount < 0) check.fail(fmt::format("GCOUNT = {} is negative", gcount));

  // Random groups (NAXIS1 = 0, GROUPS = T) leave NAXIS1 out of the product.
  const bool groups = primary && !axes.empty() && axes[0] == 0 && h.groups && value_of(*h.groups) == "T";
  std::uint64_t elements = axes.empty() ? 0 : 1;
  bool overflow = false;
  for (std::size_t i = groups ? 1 : 0; i < axes.size(); ++i)
    overflow = overflow || __builtin_mul_overflow(elements, axes[i], &elements);
  std::uint64_t bytes = 0;
  overflow = overflow || __builtin_add_overflow(elements, static_cast<std::uint64_t>(pcount), &elements) ||
             __builtin_mul_overflow(elements, static_cast<std::uint64_t>(gcount), &elements) ||
             __builtin_mul_overflow(elements, static_cast<std::uint64_t>(bitpix < 0 ? -bitpix : bitpix) / 8,
                                    &bytes) ||
             bytes > kMaxDataBytes - kBlockSize;
  if (overflow) {
    std::string shape;
    for (std::size_t i = 0; i < axes.size(); ++i)
      shape += fmt::format("{}NAXIS{} = {}", i ? ", " : "", i + 1, axes[i]);
    check.fail(fmt::format("the axis lengths ({}) give a data unit larger than 2^63 bytes", shape));
  }
  return bytes;
}

}  // namespace

void check_fits_structure(const FitsBytes& bytes, const std::string& name) {
  std::uint64_t offset = 0;
  for (int hdu = 0;; ++hdu) {
    const bool primary = hdu == 0;
    if (!primary) {
      std::array<char, 8> magic{};
      if (offset >= bytes.size || bytes.read(offset, magic) < magic.size()) return;
      if (std::string_view(magic.data(), magic.size()) != "XTENSION") return;  // trailing padding
    }
    const ScannedHeader h = scan_header(bytes, offset);
    const HduChecker check(name, hdu, h);
    std::uint64_t data_bytes = 0;
    try {
      data_bytes = data_size(h, check, primary);
    } catch (const CutShort&) {
      // cfitsio looks for END before it reads the axes, so it refuses an extension header
      // cut short safely when it gets there (the cards present were checked).
      if (primary) check.fail("the primary header has no END card (the file is truncated or damaged)");
      return;
    }
    const std::uint64_t padded = (data_bytes + kBlockSize - 1) / kBlockSize * kBlockSize;
    if (h.end_offset > bytes.size || padded > bytes.size - h.end_offset) return;  // data cut short
    offset = h.end_offset + padded;
  }
}

}  // namespace majordome::image::detail
