#include "majordome/image/mask.hpp"

#include <algorithm>
#include <bit>
#include <string>

#include "majordome/core/error.hpp"

namespace majordome::image {

namespace {

void check_name(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 40 &&
                  std::ranges::all_of(name, [](char c) {
                    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '_';
                  });
  if (!ok) {
    throw InvalidArgumentError("mask plane name '" + std::string(name) +
                               "' must be 1-40 characters of A-Z, a-z, 0-9 and _");
  }
}

}  // namespace

MaskPlanes MaskPlanes::standard() {
  MaskPlanes p;
  int bit = 0;
  for (const char* name : {"BAD", "SAT", "INTRP", "CR", "EDGE", "DETECTED", "DETECTED_NEGATIVE",
                           "SUSPECT", "NO_DATA", "CROSSTALK", "UNMASKEDNAN"}) {
    p.names_[static_cast<std::size_t>(bit++)] = name;
  }
  return p;
}

int MaskPlanes::add(std::string_view name) {
  check_name(name);
  if (auto bit = find_bit(name)) return *bit;
  for (int bit = 0; bit < kMaxPlanes; ++bit) {
    auto& slot = names_[static_cast<std::size_t>(bit)];
    if (slot.empty()) {
      slot = std::string(name);
      return bit;
    }
  }
  throw InvalidArgumentError("cannot add mask plane '" + std::string(name) + "': all " +
                             std::to_string(kMaxPlanes) + " bits are in use");
}

void MaskPlanes::add(std::string_view name, int bit) {
  check_name(name);
  if (bit < 0 || bit >= kMaxPlanes) {
    throw InvalidArgumentError("mask plane '" + std::string(name) + "': bit " +
                               std::to_string(bit) + " is outside 0..31");
  }
  if (auto existing = find_bit(name)) {
    if (*existing == bit) return;
    throw ConflictError("mask plane '" + std::string(name) + "' already has bit " +
                        std::to_string(*existing) + ", not " + std::to_string(bit));
  }
  auto& slot = names_[static_cast<std::size_t>(bit)];
  if (!slot.empty()) {
    throw ConflictError("mask bit " + std::to_string(bit) + " already belongs to plane '" + slot +
                        "', cannot give it to '" + std::string(name) + "'");
  }
  slot = std::string(name);
}

bool MaskPlanes::remove(std::string_view name) {
  for (auto& slot : names_) {
    if (slot == name) {
      slot.clear();
      return true;
    }
  }
  return false;
}

std::optional<int> MaskPlanes::find_bit(std::string_view name) const {
  for (int bit = 0; bit < kMaxPlanes; ++bit) {
    if (!name.empty() && names_[static_cast<std::size_t>(bit)] == name) return bit;
  }
  return std::nullopt;
}

int MaskPlanes::get_bit(std::string_view name) const {
  if (auto bit = find_bit(name)) return *bit;
  std::string known;
  for (const auto& [bit, n] : entries()) known += (known.empty() ? "" : ", ") + n;
  throw NotFoundError("no mask plane '" + std::string(name) + "' (planes: " +
                      (known.empty() ? "none" : known) + ")");
}

MaskPixel MaskPlanes::get_bitmask(std::string_view name) const {
  return MaskPixel{1} << get_bit(name);
}

MaskPixel MaskPlanes::get_bitmask(std::initializer_list<std::string_view> names) const {
  MaskPixel m = 0;
  for (auto n : names) m |= get_bitmask(n);
  return m;
}

int MaskPlanes::size() const {
  return static_cast<int>(std::ranges::count_if(names_, [](const auto& s) { return !s.empty(); }));
}

std::vector<std::pair<int, std::string>> MaskPlanes::entries() const {
  std::vector<std::pair<int, std::string>> out;
  for (int bit = 0; bit < kMaxPlanes; ++bit) {
    const auto& n = names_[static_cast<std::size_t>(bit)];
    if (!n.empty()) out.emplace_back(bit, n);
  }
  return out;
}

std::vector<std::string> MaskPlanes::names_in(MaskPixel value) const {
  std::vector<std::string> out;
  for (int bit = 0; bit < kMaxPlanes; ++bit) {
    const auto& n = names_[static_cast<std::size_t>(bit)];
    if (!n.empty() && (value & (MaskPixel{1} << bit)) != 0) out.push_back(n);
  }
  return out;
}

void Mask::set_bits(const Box2I& parent_box, MaskPixel bits) const {
  const Box2I box = parent_box.intersection(bbox());
  for (int y = box.begin_y(); y < box.end_y(); ++y) {
    auto r = row(y - xy0().y).subspan(static_cast<std::size_t>(box.begin_x() - xy0().x),
                                      static_cast<std::size_t>(box.width()));
    for (auto& p : r) p |= bits;
  }
}

void Mask::clear_bits(MaskPixel bits) const {
  for (int y = 0; y < height(); ++y)
    for (auto& p : row(y)) p &= ~bits;
}

std::int64_t Mask::count(MaskPixel bits) const {
  std::int64_t n = 0;
  for (int y = 0; y < height(); ++y)
    for (auto p : row(y)) n += (p & bits) != 0 ? 1 : 0;
  return n;
}

}  // namespace majordome::image
