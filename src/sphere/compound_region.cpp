#include "majordome/sphere/compound_region.hpp"

#include <algorithm>
#include <string>

#include "byte_io.hpp"
#include "majordome/core/error.hpp"
#include "region_decoding.hpp"

namespace majordome::sphere {
namespace {

std::vector<std::unique_ptr<Region>> two(const Region& a, const Region& b) {
  std::vector<std::unique_ptr<Region>> ops;
  ops.push_back(a.clone());
  ops.push_back(b.clone());
  return ops;
}

}  // namespace

CompoundRegion::CompoundRegion(std::vector<std::unique_ptr<Region>> operands)
    : operands_(std::move(operands)) {
  for (const auto& op : operands_) {
    if (!op) throw InvalidArgumentError("a compound region operand is null");
  }
}

CompoundRegion::CompoundRegion(const CompoundRegion& other) : Region(other) {
  operands_.reserve(other.operands_.size());
  for (const auto& op : other.operands_) operands_.push_back(op->clone());
}

CompoundRegion& CompoundRegion::operator=(const CompoundRegion& other) {
  if (this != &other) {
    std::vector<std::unique_ptr<Region>> ops;
    ops.reserve(other.operands_.size());
    for (const auto& op : other.operands_) ops.push_back(op->clone());
    operands_ = std::move(ops);
  }
  return *this;
}

std::vector<std::uint8_t> CompoundRegion::encode() const {
  std::vector<std::uint8_t> out;
  out.push_back(static_cast<std::uint8_t>(type()));
  for (const auto& op : operands_) {
    const std::vector<std::uint8_t> bytes = op->encode();
    detail::put_u64(out, bytes.size());
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

std::vector<std::unique_ptr<Region>> CompoundRegion::decode_operands(
    std::span<const std::uint8_t> bytes, int depth) {
  std::vector<std::unique_ptr<Region>> ops;
  std::size_t pos = 1;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 8) {
      throw CorruptFileError("encoded compound region is truncated in an operand length at byte " +
                             std::to_string(pos));
    }
    const std::uint64_t n = detail::get_u64(bytes, pos);
    pos += 8;
    if (n > bytes.size() - pos) {
      throw CorruptFileError("encoded compound region operand at byte " + std::to_string(pos) +
                             " claims " + std::to_string(n) + " bytes but only " +
                             std::to_string(bytes.size() - pos) + " remain");
    }
    ops.push_back(detail::decode_region(bytes.subspan(pos, n), depth + 1));
    pos += n;
  }
  return ops;
}

UnionRegion::UnionRegion(const Region& a, const Region& b) : CompoundRegion(two(a, b)) {}

std::unique_ptr<Region> UnionRegion::clone() const { return std::make_unique<UnionRegion>(*this); }

bool UnionRegion::is_empty() const {
  return std::all_of(operands().begin(), operands().end(),
                     [](const auto& op) { return op->is_empty(); });
}

bool UnionRegion::contains(const UnitVector3d& v) const {
  return std::any_of(operands().begin(), operands().end(),
                     [&](const auto& op) { return op->contains(v); });
}

Box UnionRegion::bounding_box() const {
  Box b = Box::empty();
  for (const auto& op : operands()) b = b.expanded_to(op->bounding_box());
  return b;
}

Circle UnionRegion::bounding_circle() const {
  Circle c = Circle::empty();
  for (const auto& op : operands()) c = c.expanded_to(op->bounding_circle());
  return c;
}

UnionRegion UnionRegion::decode(std::span<const std::uint8_t> bytes) {
  return UnionRegion(decode_operands(bytes, 0));
}

IntersectionRegion::IntersectionRegion(const Region& a, const Region& b)
    : CompoundRegion(two(a, b)) {}

std::unique_ptr<Region> IntersectionRegion::clone() const {
  return std::make_unique<IntersectionRegion>(*this);
}

bool IntersectionRegion::is_empty() const {
  return std::any_of(operands().begin(), operands().end(),
                     [](const auto& op) { return op->is_empty(); });
}

bool IntersectionRegion::contains(const UnitVector3d& v) const {
  return std::all_of(operands().begin(), operands().end(),
                     [&](const auto& op) { return op->contains(v); });
}

Box IntersectionRegion::bounding_box() const {
  // Any operand's box bounds the intersection; keep the smallest.
  Box best = Box::full();
  double best_size = 1e300;
  for (const auto& op : operands()) {
    const Box b = op->bounding_box();
    if (b.is_empty()) return b;
    const double size = b.width().radians() * (b.lat_b().radians() - b.lat_a().radians());
    if (size < best_size) {
      best = b;
      best_size = size;
    }
  }
  return best;
}

Circle IntersectionRegion::bounding_circle() const {
  Circle best = Circle::full();
  for (const auto& op : operands()) {
    const Circle c = op->bounding_circle();
    if (c.is_empty()) return c;
    if (c.opening_angle() < best.opening_angle()) best = c;
  }
  return best;
}

IntersectionRegion IntersectionRegion::decode(std::span<const std::uint8_t> bytes) {
  return IntersectionRegion(decode_operands(bytes, 0));
}

}  // namespace majordome::sphere
