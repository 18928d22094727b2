// The translator base class: header access and the default property rules of
// astro_metadata_translator (MetadataTranslator/FitsTranslator and its helpers).
#include <erfa.h>
#include <erfam.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "translator_impl.hpp"

namespace majordome::instrument::detail {

Location geodetic(double lon_deg, double lat_deg, double height_m) {
  double xyz[3];
  eraGd2gc(ERFA_WGS84, lon_deg * ERFA_DD2R, lat_deg * ERFA_DD2R, height_m, xyz);
  return {xyz[0], xyz[1], xyz[2]};
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}
std::string upper(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}
std::string strip(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

int tai_day(TaiTime t, double offset_s) {
  TaiTime shifted(t.ns() - static_cast<std::int64_t>(std::llround(offset_s * 1e9)));
  std::string iso = shifted.tai_iso(0);
  return std::stoi(iso.substr(0, 4)) * 10000 + std::stoi(iso.substr(5, 2)) * 100 +
         std::stoi(iso.substr(8, 2));
}

double sexagesimal(const std::string& text, bool hours) {
  std::string t = strip(text);
  double sign = 1.0;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    if (t[0] == '-') sign = -1.0;
    t = t.substr(1);
  }
  double parts[3] = {0, 0, 0};
  int n = 0;
  std::stringstream ss(t);
  std::string item;
  while (std::getline(ss, item, ':') && n < 3) parts[n++] = std::stod(item);
  double v = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0;
  return sign * v * (hours ? 15.0 : 1.0);
}

AltAz radec_to_altaz(const SkyPosition& radec, TaiTime t, const Location& loc) {
  double jd_tai = 2400000.5 + t.mjd_tai();
  double u1 = 0, u2 = 0;
  eraTaiutc(2400000.5, jd_tai - 2400000.5, &u1, &u2);
  double elong = 0, phi = 0, height = 0;
  double xyz[3] = {loc.x_m, loc.y_m, loc.z_m};
  eraGc2gd(ERFA_WGS84, xyz, &elong, &phi, &height);
  double aob = 0, zob = 0, hob = 0, dob = 0, rob = 0, eo = 0;
  eraAtco13(radec.ra_deg * ERFA_DD2R, radec.dec_deg * ERFA_DD2R, 0, 0, 0, 0, u1, u2, 0.0,
            elong, phi, height, 0, 0, 0, 0, 0, 0.55, &aob, &zob, &hob, &dob, &rob, &eo);
  return {aob * ERFA_DR2D, 90.0 - zob * ERFA_DR2D};
}

// ---------------------------------------------------------------------------------------
// BLAKE2b (RFC 7693), 64-byte digest, no key: Rubin hashes non-standard group names.
namespace {
constexpr std::array<std::uint64_t, 8> kIv = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
constexpr std::uint8_t kSigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

std::uint64_t rotr(std::uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

void compress(std::array<std::uint64_t, 8>& h, const std::uint8_t* block, std::uint64_t t,
              bool last) {
  std::uint64_t m[16];
  for (int i = 0; i < 16; ++i) {
    m[i] = 0;
    for (int b = 7; b >= 0; --b) m[i] = (m[i] << 8) | block[i * 8 + b];
  }
  std::uint64_t v[16];
  for (int i = 0; i < 8; ++i) v[i] = h[i], v[i + 8] = kIv[i];
  v[12] ^= t;
  if (last) v[14] = ~v[14];
  auto g = [&v](int a, int b, int c, int d, std::uint64_t x, std::uint64_t y) {
    v[a] = v[a] + v[b] + x; v[d] = rotr(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];     v[b] = rotr(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y; v[d] = rotr(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];     v[b] = rotr(v[b] ^ v[c], 63);
  };
  for (const auto& s : kSigma) {
    g(0, 4, 8, 12, m[s[0]], m[s[1]]);
    g(1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(2, 6, 10, 14, m[s[4]], m[s[5]]);
    g(3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(0, 5, 10, 15, m[s[8]], m[s[9]]);
    g(1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(2, 7, 8, 13, m[s[12]], m[s[13]]);
    g(3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; ++i) h[i] ^= v[i] ^ v[i + 8];
}
}  // namespace

std::string blake2b_hex(std::string_view data) {
  std::array<std::uint64_t, 8> h = kIv;
  h[0] ^= 0x01010000ULL ^ 64ULL;
  std::size_t n = data.size(), off = 0;
  std::uint8_t block[128];
  while (n - off > 128) {
    std::memcpy(block, data.data() + off, 128);
    off += 128;
    compress(h, block, off, false);
  }
  std::memset(block, 0, sizeof block);
  if (n > off) std::memcpy(block, data.data() + off, n - off);
  compress(h, block, n, true);
  std::string out;
  for (int i = 0; i < 64; ++i) out += fmt::format("{:02x}", (h[i / 8] >> (8 * (i % 8))) & 0xff);
  return out;
}

// ---------------------------------------------------------------------------------------
std::optional<std::string> header_str(const image::Header& h, std::string_view key) {
  auto v = h.find(key);
  if (!v || std::holds_alternative<std::monostate>(*v)) return std::nullopt;
  if (auto* s = std::get_if<std::string>(&*v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&*v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&*v)) return fmt::format("{}", *d);
  return std::get<bool>(*v) ? "True" : "False";
}
std::optional<double> header_num(const image::Header& h, std::string_view key) {
  auto v = h.find(key);
  if (!v) return std::nullopt;
  if (auto* d = std::get_if<double>(&*v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&*v)) return static_cast<double>(*i);
  if (auto* s = std::get_if<std::string>(&*v)) {
    try { return std::stod(*s); } catch (const std::exception&) { return std::nullopt; }
  }
  return std::nullopt;
}

bool Translator::ok(std::string_view key) const {
  auto* c = h_.find_card(key);
  return c && !std::holds_alternative<std::monostate>(c->value);
}
bool Translator::all_ok(std::initializer_list<std::string_view> keys) const {
  return std::all_of(keys.begin(), keys.end(), [this](auto k) { return ok(k); });
}
const image::HeaderValue& Translator::value(std::string_view key) const {
  return h_.find_card(key)->value;
}
void Translator::missing(std::vector<std::string> keys, const std::string& why) const {
  throw MissingKeys(std::move(keys), why);
}
std::string Translator::str(std::string_view key) const {
  if (!ok(key)) missing({std::string(key)}, fmt::format("keyword {} is missing", key));
  return *header_str(h_, key);
}
double Translator::num(std::string_view key) const {
  if (!ok(key)) missing({std::string(key)}, fmt::format("keyword {} is missing", key));
  auto v = header_num(h_, key);
  if (!v) missing({std::string(key)}, fmt::format("keyword {} is not a number", key));
  return *v;
}
std::int64_t Translator::integer(std::string_view key) const {
  double v = num(key);
  if (auto* i = std::get_if<std::int64_t>(&value(key))) return *i;
  return static_cast<std::int64_t>(v);
}
bool Translator::truthy(std::string_view key) const {
  if (!ok(key)) return false;
  const auto& v = value(key);
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i != 0;
  if (auto* d = std::get_if<double>(&v)) return *d != 0.0;
  return !std::get<std::string>(v).empty();
}
std::optional<std::string> Translator::first_str(std::initializer_list<std::string_view> keys) const {
  for (auto k : keys)
    if (ok(k)) return str(k);
  return std::nullopt;
}
std::optional<double> Translator::first_num(std::initializer_list<std::string_view> keys) const {
  for (auto k : keys)
    if (ok(k)) return num(k);
  return std::nullopt;
}

TaiTime Translator::fits_date(const std::string& text, std::string_view scale) const {
  auto t = lower(scale) == "tai" ? TaiTime::parse_tai_iso(text) : TaiTime::parse_utc_iso(text);
  if (!t) missing({}, fmt::format("'{}' is not an ISO date", text));
  return *t;
}

std::optional<TaiTime> Translator::fits_date_key(std::string_view date_key, std::string_view mjd_key,
                                                 std::optional<std::string_view> scale) const {
  std::string sc = scale ? std::string(*scale) : (ok("TIMESYS") ? lower(str("TIMESYS")) : "utc");
  if (!date_key.empty() && ok(date_key)) return fits_date(str(date_key), sc);
  if (!mjd_key.empty() && ok(mjd_key)) {
    TaiTime t = TaiTime::from_mjd_tai(num(mjd_key));
    if (sc == "utc") {
      // The MJD is on the UTC scale: shift by TAI-UTC at that date.
      double d1 = 0, d2 = 0;
      eraUtctai(2400000.5, num(mjd_key), &d1, &d2);
      t = TaiTime::from_mjd_tai(d1 - 2400000.5 + d2);
    }
    return t;
  }
  return std::nullopt;
}

std::optional<std::string> Translator::instrument() const { return str("INSTRUME"); }
std::optional<std::string> Translator::telescope() const { return str("TELESCOP"); }
std::optional<Location> Translator::location() const {
  return Location{num("OBSGEO-X"), num("OBSGEO-Y"), num("OBSGEO-Z")};
}
std::optional<TaiTime> Translator::datetime_begin() const {
  for (auto [d, m] : {std::pair{"DATE-BEG", "MJD-BEG"}, std::pair{"DATE-OBS", "MJD-OBS"}})
    if (auto t = fits_date_key(d, m)) return t;
  missing({"DATE-OBS", "MJD-OBS"}, "no DATE-BEG/MJD-BEG/DATE-OBS/MJD-OBS keyword");
}
std::optional<TaiTime> Translator::datetime_end() const {
  auto t = fits_date_key("DATE-END", "MJD-END");
  if (!t) missing({"DATE-END", "MJD-END"}, "no DATE-END/MJD-END keyword");
  return t;
}
std::optional<std::string> Translator::observation_reason() const {
  return observation_type() == "science" ? "science" : "unknown";
}
std::optional<std::string> Translator::exposure_group() const {
  auto id = exposure_id();
  if (!id) return std::nullopt;
  return std::to_string(*id);
}
std::optional<int> Translator::observing_day() const {
  auto begin = datetime_begin();
  if (!begin) return 0;
  return tai_day(*begin, observing_day_offset().value_or(0.0));
}
std::optional<std::string> Translator::detector_unique_name() const {
  auto name = detector_name();
  auto group = detector_group();
  if (group) return *group + "_" + name.value_or("None");
  return name;
}
std::optional<bool> Translator::can_see_sky() const {
  std::string t = lower(observation_type().value_or(""));
  if (is_sky_type(t)) return true;
  if (is_non_sky_type(t)) return false;
  return std::nullopt;
}

std::string Translator::obs_type_or_empty() const {
  try {
    return observation_type().value_or("");
  } catch (const MissingKeys&) {
    return "";
  }
}

std::optional<SkyPosition> Translator::tracking_from(
    std::initializer_list<std::string_view> radecsys,
    std::vector<std::pair<std::string, std::string>> pairs, bool ra_in_hours) const {
  for (auto k : radecsys) {
    if (ok(k)) {
      if (lower(strip(str(k))) == "gappt") return std::nullopt;  // moving target
      break;
    }
  }
  for (const auto& [ra, dec] : pairs) {
    if (ok(ra) && ok(dec)) {
      auto angle = [this](const std::string& key, bool hours) {
        if (auto* s = std::get_if<std::string>(&value(key)))
          return s->find(':') != std::string::npos ? sexagesimal(*s, hours)
                                                   : std::stod(*s) * (hours ? 15.0 : 1.0);
        return num(key) * (hours ? 15.0 : 1.0);
      };
      return SkyPosition{angle(ra, ra_in_hours), angle(dec, false)};
    }
  }
  if (obs_type_or_empty() == "science") {
    std::vector<std::string> keys;
    for (const auto& [ra, dec] : pairs) keys.push_back(ra), keys.push_back(dec);
    missing(keys, "unable to determine the tracking RA/Dec of a science observation");
  }
  return std::nullopt;
}

std::optional<AltAz> Translator::altaz_from(std::vector<std::pair<std::string, std::string>> pairs,
                                            bool zd, double min_alt) const {
  for (const auto& [alt_key, az_key] : pairs) {
    if (ok(alt_key) && ok(az_key)) {
      double az = num(az_key), alt = num(alt_key);
      if (zd) alt = 90.0 - alt;
      if (az < -360.0 || alt < min_alt) break;
      if (alt > 90.0) alt = 90.0;
      return AltAz{az, alt};
    }
  }
  if (obs_type_or_empty() == "science") {
    std::vector<std::string> keys;
    for (const auto& [alt, az] : pairs) keys.push_back(alt), keys.push_back(az);
    missing(keys, "unable to determine the AltAz of a science observation");
  }
  return std::nullopt;
}

}  // namespace majordome::instrument::detail
