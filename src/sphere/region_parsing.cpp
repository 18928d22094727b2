#include "majordome/sphere/region_parsing.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/sphere/lon_lat.hpp"

namespace majordome::sphere {
namespace {

std::vector<std::string_view> split_blanks(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// A decimal number or ±Inf, as SIAv2 allows.
double parse_number(std::string_view token, std::string_view pos) {
  std::string t(token);
  if (t == "Inf" || t == "+Inf" || t == "inf" || t == "+inf")
    return std::numeric_limits<double>::infinity();
  if (t == "-Inf" || t == "-inf") return -std::numeric_limits<double>::infinity();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || t.empty() || errno == ERANGE || !std::isfinite(v) ||
      t.find_first_of("xXnN") != std::string::npos) {
    throw InvalidArgumentError("invalid number '" + t + "' in POS region '" + std::string(pos) +
                               "'");
  }
  return v;
}

}  // namespace

UnitVector3d point_from_degrees(double ra, double dec) {
  return UnitVector3d(LonLat::from_degrees(ra, dec));
}

Circle point_region_from_degrees(double ra, double dec) {
  return Circle(point_from_degrees(ra, dec), Angle(0.0));
}

Circle circle_from_degrees(double ra, double dec, double radius) {
  if (!(radius >= 0.0)) {
    throw InvalidArgumentError(fmt::format("invalid circle radius {} degrees (must be >= 0)", radius));
  }
  return Circle(point_from_degrees(ra, dec), Angle::from_degrees(radius));
}

Box box_from_degrees(double ra, double dec, double width, double height) {
  if (!(width >= 0.0) || !(height >= 0.0)) {
    throw InvalidArgumentError(
        fmt::format("invalid box size {} x {} degrees (must be >= 0)", width, height));
  }
  return Box(LonLat::from_degrees(ra, dec), Angle::from_degrees(0.5 * width),
             Angle::from_degrees(0.5 * height));
}

ConvexPolygon polygon_from_degrees(std::span<const double> ra_dec) {
  if (ra_dec.size() % 2 != 0 || ra_dec.size() < 6) {
    throw InvalidArgumentError("a polygon needs at least 3 (ra, dec) pairs, got " +
                               std::to_string(ra_dec.size()) + " numbers");
  }
  std::vector<UnitVector3d> points;
  points.reserve(ra_dec.size() / 2);
  for (std::size_t i = 0; i < ra_dec.size(); i += 2)
    points.push_back(point_from_degrees(ra_dec[i], ra_dec[i + 1]));
  return ConvexPolygon::convex_hull(points);
}

std::unique_ptr<Region> parse_ivoa_pos(std::string_view pos) {
  const std::vector<std::string_view> tokens = split_blanks(pos);
  if (tokens.empty()) throw InvalidArgumentError("empty POS region string");
  const std::string_view shape = tokens[0];
  std::vector<double> args;
  for (std::size_t i = 1; i < tokens.size(); ++i) args.push_back(parse_number(tokens[i], pos));
  auto bad_count = [&](const char* expected) {
    return InvalidArgumentError("POS " + std::string(shape) + " takes " + expected + ", got " +
                                std::to_string(args.size()) + " in '" + std::string(pos) + "'");
  };
  auto require_finite = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      if (!std::isfinite(args[i])) {
        throw InvalidArgumentError("POS " + std::string(shape) + " needs finite numbers in '" +
                                   std::string(pos) + "'");
      }
    }
  };
  if (shape == "CIRCLE") {
    if (args.size() != 3) throw bad_count("3 numbers (ra dec radius)");
    require_finite(0, 3);
    return std::make_unique<Circle>(circle_from_degrees(args[0], args[1], args[2]));
  }
  if (shape == "RANGE") {
    if (args.size() != 4) throw bad_count("4 numbers (lon1 lon2 lat1 lat2)");
    double lon1 = args[0], lon2 = args[1], lat1 = args[2], lat2 = args[3];
    if (std::isinf(lon1)) lon1 = lon1 < 0 ? 0.0 : 360.0;
    if (std::isinf(lon2)) lon2 = lon2 < 0 ? 0.0 : 360.0;
    if (std::isinf(lat1)) lat1 = lat1 < 0 ? -90.0 : 90.0;
    if (std::isinf(lat2)) lat2 = lat2 < 0 ? -90.0 : 90.0;
    if (lat1 < -90.0 || lat2 > 90.0 || lat1 > lat2) {
      throw InvalidArgumentError(
          fmt::format("invalid latitude range [{}, {}] in POS '{}'", lat1, lat2, pos));
    }
    return std::make_unique<Box>(Box::from_degrees(lon1, lon2, lat1, lat2));
  }
  if (shape == "POLYGON") {
    if (args.size() < 6 || args.size() % 2 != 0)
      throw bad_count("an even count of at least 6 numbers");
    require_finite(0, args.size());
    return std::make_unique<ConvexPolygon>(polygon_from_degrees(args));
  }
  throw InvalidArgumentError("unknown POS shape '" + std::string(shape) + "' in '" +
                             std::string(pos) +
                             "' (expected CIRCLE, RANGE or POLYGON, upper case)");
}

}  // namespace majordome::sphere
