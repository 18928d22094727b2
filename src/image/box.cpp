#include "majordome/image/box.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "majordome/core/error.hpp"

namespace majordome::image {

Box2I::Box2I(Point2I min, Extent2I dimensions) : min_(min), dims_(dimensions) {
  if (dimensions.width < 0 || dimensions.height < 0) {
    throw InvalidArgumentError("Box2I: negative dimensions (" + std::to_string(dimensions.width) +
                               ", " + std::to_string(dimensions.height) + ")");
  }
}

Box2I Box2I::from_min_max(Point2I min, Point2I max_inclusive) {
  return from_begin_end(min.x, min.y, max_inclusive.x + 1, max_inclusive.y + 1);
}

Box2I Box2I::from_begin_end(int x_begin, int y_begin, int x_end, int y_end) {
  if (x_end <= x_begin || y_end <= y_begin) return Box2I();
  return Box2I({x_begin, y_begin}, {x_end - x_begin, y_end - y_begin});
}

namespace {

// Parses "a:b" (1-based inclusive) into a 0-based [begin, end).
bool parse_range(std::string_view text, int& begin, int& end) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  auto parse_int = [](std::string_view s, int& v) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    const auto* last = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), last, v);
    return ec == std::errc() && ptr == last;
  };
  int a = 0;
  int b = 0;
  if (!parse_int(text.substr(0, colon), a) || !parse_int(text.substr(colon + 1), b)) return false;
  if (a > b) std::swap(a, b);
  begin = a - 1;
  end = b;
  return true;
}

}  // namespace

Box2I Box2I::from_fits_section(std::string_view section) {
  std::string_view s = section;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  const auto comma = s.find(',');
  int x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  if (s.size() < 2 || s.front() != '[' || s.back() != ']' || comma == std::string_view::npos ||
      !parse_range(s.substr(1, comma - 1), x0, x1) ||
      !parse_range(s.substr(comma + 1, s.size() - comma - 2), y0, y1)) {
    throw InvalidArgumentError("'" + std::string(section) +
                               "' is not a FITS section such as [1:512,1:1024]");
  }
  return from_begin_end(x0, y0, x1, y1);
}

Box2I Box2I::united(const Box2I& other) const {
  if (empty()) return other;
  if (other.empty()) return *this;
  return from_begin_end(std::min(begin_x(), other.begin_x()), std::min(begin_y(), other.begin_y()),
                        std::max(end_x(), other.end_x()), std::max(end_y(), other.end_y()));
}

Box2I Box2I::shifted(int dx, int dy) const {
  if (empty()) return *this;
  return Box2I({min_.x + dx, min_.y + dy}, dims_);
}

Box2I Box2I::grown(int n) const {
  if (empty()) return *this;
  return from_begin_end(begin_x() - n, begin_y() - n, end_x() + n, end_y() + n);
}

std::string Box2I::fits_section() const {
  return "[" + std::to_string(min_x() + 1) + ":" + std::to_string(max_x() + 1) + "," +
         std::to_string(min_y() + 1) + ":" + std::to_string(max_y() + 1) + "]";
}

std::string Box2I::str() const {
  return "Box2I(min=(" + std::to_string(min_.x) + ", " + std::to_string(min_.y) +
         "), dimensions=(" + std::to_string(dims_.width) + ", " + std::to_string(dims_.height) +
         "))";
}

}  // namespace majordome::image
