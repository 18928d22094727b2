#include "majordome/core/uuid.hpp"

#include <openssl/evp.h>

#include <chrono>
#include <random>

#include "majordome/core/error.hpp"

namespace majordome {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Uuid name_based(const EVP_MD* md, int version, const Uuid& ns, std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, ns.bytes().data(), ns.bytes().size()) != 1 ||
      EVP_DigestUpdate(ctx, name.data(), name.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, digest, &length) != 1) {
    EVP_MD_CTX_free(ctx);
    throw InternalError("OpenSSL digest failed while computing a name-based UUID");
  }
  EVP_MD_CTX_free(ctx);
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < 16; ++i) bytes[i] = digest[i];
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | (version << 4));
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);
  return Uuid(bytes);
}

std::mt19937_64& random_engine() {
  thread_local std::mt19937_64 engine([] {
    std::random_device device;
    std::seed_seq seq{device(), device(), device(), device()};
    return std::mt19937_64(seq);
  }());
  return engine;
}

std::array<std::uint8_t, 16> random_bytes() {
  std::array<std::uint8_t, 16> bytes{};
  auto& engine = random_engine();
  std::uint64_t a = engine(), b = engine();
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<std::uint8_t>(a >> (8 * i));
    bytes[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
  }
  return bytes;
}

}  // namespace

std::optional<Uuid> Uuid::parse(std::string_view text) {
  std::array<std::uint8_t, 16> bytes{};
  std::size_t n = 0;
  int high = -1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '-') {
      // Dashes only at the canonical positions (after 8, 12, 16, 20 digits).
      if (high != -1 || (n != 4 && n != 6 && n != 8 && n != 10)) return std::nullopt;
      continue;
    }
    int v = hex_value(c);
    if (v < 0 || n >= 16) return std::nullopt;
    if (high < 0) {
      high = v;
    } else {
      bytes[n++] = static_cast<std::uint8_t>(high << 4 | v);
      high = -1;
    }
  }
  if (n != 16 || high != -1) return std::nullopt;
  return Uuid(bytes);
}

Uuid Uuid::get(std::string_view text) {
  if (auto u = parse(text)) return *u;
  throw InvalidArgumentError("'" + std::string(text) +
                             "' is not a UUID (expected 32 hex digits, e.g. "
                             "e15ab039-bc8b-4135-87c5-90902a7c0b22)");
}

Uuid Uuid::v3(const Uuid& namespace_id, std::string_view name) {
  return name_based(EVP_md5(), 3, namespace_id, name);
}

Uuid Uuid::v5(const Uuid& namespace_id, std::string_view name) {
  return name_based(EVP_sha1(), 5, namespace_id, name);
}

Uuid Uuid::v4() {
  auto bytes = random_bytes();
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);
  return Uuid(bytes);
}

Uuid Uuid::v7() {
  auto bytes = random_bytes();
  auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x70);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);
  return Uuid(bytes);
}

bool Uuid::is_nil() const {
  for (auto b : bytes_)
    if (b != 0) return false;
  return true;
}

std::string Uuid::hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (auto b : bytes_) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

std::string Uuid::str() const {
  std::string h = hex();
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

}  // namespace majordome
