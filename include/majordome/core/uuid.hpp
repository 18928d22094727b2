// 128-bit UUIDs: the identity of every dataset.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace majordome {

class Uuid {
 public:
  Uuid() = default;  // the nil UUID
  explicit Uuid(const std::array<std::uint8_t, 16>& bytes) : bytes_(bytes) {}

  // Parses "e15ab039-bc8b-4135-87c5-90902a7c0b22", with or without dashes, any case.
  static std::optional<Uuid> parse(std::string_view text);
  // As parse(), but throws InvalidArgumentError naming the text.
  static Uuid get(std::string_view text);

  // Name-based UUIDs (RFC 4122 versions 3 and 5) of `name` in `namespace_id`.
  static Uuid v3(const Uuid& namespace_id, std::string_view name);
  static Uuid v5(const Uuid& namespace_id, std::string_view name);
  // A random UUID (version 4) and a time-ordered random UUID (version 7: 48-bit Unix
  // milliseconds then random bits), the latter keeps index inserts local. Thread-safe.
  static Uuid v4();
  static Uuid v7();

  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  int version() const { return bytes_[6] >> 4; }
  bool is_nil() const;

  std::string str() const;  // lowercase with dashes (8-4-4-4-12)
  std::string hex() const;  // lowercase, 32 digits, no dashes

  friend bool operator==(const Uuid&, const Uuid&) = default;
  friend auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace majordome
