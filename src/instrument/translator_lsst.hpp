// Private: obs_lsst's LsstBaseTranslator rules, shared by the Rubin camera translators
// (translator_lsst.cpp) and the Rubin test-stand translators (translator_teststand.cpp).
#pragma once

#include <erfa.h>
#include <erfam.h>

#include <array>
#include <cmath>
#include <regex>
#include <string>

#include <fmt/format.h>

#include "majordome/instrument/translator.hpp"
#include "translator_impl.hpp"

namespace majordome::instrument::detail {

inline constexpr std::string_view kSimulatedControllers = "HPQS";
inline const Location kSimonyi = geodetic(-70.749417, -30.244639, 2663.0);
inline constexpr double kTwelveHours = 12 * 3600.0;
// The slots of a science raft, in detector-number order.
inline constexpr std::array<std::string_view, 9> kScienceSensors = {"S00", "S01", "S02", "S10", "S11",
                                                                    "S12", "S20", "S21", "S22"};

// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);

// Shared rules of all LSST-style headers (obs_lsst's LsstBaseTranslator).
class LsstBase : public Translator {
 public:
  LsstBase(const image::Header& h, std::string camera) : Translator(h), camera_(std::move(camera)) {}

  std::optional<std::string> instrument() const override { return camera_; }
  std::optional<std::string> telescope() const override { return "Simonyi Survey Telescope"; }
  std::optional<Location> location() const override {
    if (!on_mountain()) return std::nullopt;
    if (all_ok({"OBSGEO-X", "OBSGEO-Y", "OBSGEO-Z"})) return Translator::location();
    return default_location();
  }
  std::optional<TaiTime> datetime_begin() const override {
    for (std::string_view k : {"MJD-BEG", "DATE-BEG", "MJD-OBS", "DATE-OBS"}) {
      if (!ok(k)) continue;
      if (k.starts_with("MJD")) return TaiTime::from_mjd_tai(num(k));
      return fits_date(str(k), "tai");
    }
    missing({"MJD-OBS", "DATE-OBS"}, "no MJD-BEG/DATE-BEG/MJD-OBS/DATE-OBS keyword");
  }
  std::optional<TaiTime> datetime_end() const override {
    if (ok("DATE-END")) return Translator::datetime_end();
    double exptime = exposure_time().value_or(0.0);
    auto begin = *datetime_begin();
    if (exptime < 0.0) return begin;
    return TaiTime(begin.ns() + static_cast<std::int64_t>(std::llround(exptime * 1e9)));
  }
  std::optional<double> exposure_time() const override { return num("EXPTIME"); }
  std::optional<double> dark_time() const override {
    if (ok("DARKTIME")) return num("DARKTIME");
    return exposure_time();
  }
  std::optional<std::int64_t> exposure_id() const override {
    if (h_.contains("CALIB_ID")) return std::nullopt;
    auto c = controller();
    return lsst_exposure_id(str("DAYOBS"), integer("SEQNUM"),
                            c ? std::optional<char>((*c)[0]) : std::nullopt);
  }
  std::optional<std::int64_t> visit_id() const override {
    auto group = exposure_group();
    if (!group) return std::nullopt;
    static const std::regex kInt(R"(^\s*[-+]?\d+\s*$)");
    if (std::regex_match(*group, kInt)) return std::stoll(*group);
    static const std::regex kGroup(
        R"(^(\d\d\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d\d\d)(?:[\+#](\d+))?$)");
    std::smatch m;
    if (std::regex_match(*group, m, kGroup)) {
      auto i = [&m](int k) { return std::stoll(m[k].str()); };
      std::int64_t epoch = (days_from_civil(i(1), static_cast<unsigned>(i(2)), static_cast<unsigned>(i(3))) -
                            days_from_civil(2015, 1, 1)) * 86400 + i(4) * 3600 + i(5) * 60 + i(6);
      std::int64_t n = m[8].matched ? i(8) : 0;
      return std::stoll(fmt::format("{}{}{:04d}", epoch, m[7].str(), n));
    }
    std::uint64_t hashed = std::strtoull(blake2b_hex(*group).substr(0, 14).c_str(), nullptr, 16);
    return std::stoll(fmt::format("{}{:02d}", hashed, group->size()));
  }
  std::optional<std::string> physical_filter() const override {
    std::string joined;
    for (auto k : {"FILTER", "FILTER1", "FILTER2"}) {
      if (!ok(k)) continue;
      if (!joined.empty()) joined += "~";
      joined += str(k);
    }
    if (joined.empty()) joined = "unknown";
    for (std::size_t p; (p = joined.find("NONE")) != std::string::npos;) joined.replace(p, 4, "none");
    return joined;
  }
  std::optional<std::string> observation_type() const override {
    std::string t = lower(str("IMGTYPE"));
    if (t == "skyexp" || t == "object") t = "science";
    return t;
  }
  std::optional<std::string> observation_reason() const override {
    if (auto r = first_str({"REASON", "TESTTYPE"})) return lower(*r);
    return Translator::observation_reason();
  }
  std::optional<std::string> observation_id() const override { return str("OBSID"); }
  std::optional<std::string> science_program() const override {
    return first_str({"PROGRAM", "RUNNUM"}).value_or("unknown");
  }
  std::optional<std::string> object() const override { return opt_str("OBJECT").value_or("UNKNOWN"); }
  std::optional<std::string> exposure_group() const override {
    if (ok("GROUPID")) return str("GROUPID");
    return Translator::exposure_group();
  }
  std::optional<double> observing_day_offset() const override {
    auto begin = datetime_begin();
    if (!begin) return std::nullopt;
    return day_offset(*begin);
  }
  std::optional<int> observing_day() const override {
    if (ok("DAYOBS")) return static_cast<int>(integer("DAYOBS"));
    return Translator::observing_day();
  }
  std::optional<std::int64_t> observation_counter() const override {
    return ok("SEQNUM") ? integer("SEQNUM") : 0;
  }
  std::optional<std::int64_t> group_counter_start() const override {
    std::int64_t counter = *observation_counter();
    if (ok("CURINDEX")) return counter - integer("CURINDEX") + 1;
    return counter != 0 ? std::optional(counter) : exposure_id();
  }
  std::optional<std::int64_t> group_counter_end() const override {
    std::int64_t counter = *observation_counter();
    if (ok("CURINDEX") && ok("MAXINDEX")) return counter + integer("MAXINDEX") - integer("CURINDEX");
    return counter != 0 ? std::optional(counter) : exposure_id();
  }
  std::optional<int> detector_num() const override {
    auto group = detector_group(), name = detector_name();
    if (!group || !name) return std::nullopt;
    auto n = lsst_detector_number(camera_, *group, *name);
    if (!n) missing({"RAFTBAY", "CCDSLOT"}, fmt::format("unknown {} detector {}_{}", camera_, *group, *name));
    return n;
  }
  std::optional<std::string> detector_name() const override { return str("CCDSLOT"); }
  std::optional<std::string> detector_group() const override { return str("RAFTBAY"); }
  std::optional<std::string> detector_serial() const override { return str("LSST_NUM"); }
  std::optional<std::int64_t> detector_exposure_id() const override {
    auto id = exposure_id();
    auto num = detector_num();
    if (!id || !num) return std::nullopt;
    return lsst_detector_exposure_id(*id, *num);
  }
  std::optional<double> boresight_airmass() const override {
    if (!on_sky()) return std::nullopt;
    if (ok("AMSTART")) return num("AMSTART");
    if (auto aa = altaz_begin()) return 1.0 / std::cos((90.0 - aa->alt_deg) * ERFA_DD2R);
    return 1.0;
  }
  std::optional<double> boresight_rotation_angle() const override {
    if (auto v = first_num({"ROTPA", "ROTANGLE"})) return *v;
    if (obs_type_or_empty() != "science" || !on_mountain()) return 0.0;
    missing({"ROTPA", "ROTANGLE"}, "no rotation angle for a science observation on the mountain");
  }
  std::optional<std::string> boresight_rotation_coord() const override {
    if (!on_sky()) return "unknown";
    return opt_str("ROTCOORD").value_or("unknown");
  }
  std::optional<SkyPosition> tracking_radec() const override {
    std::string t = obs_type_or_empty();
    if (t == "bias" || t == "flat") return std::nullopt;
    if (ok("TRACKSYS") && str("TRACKSYS") != "RADEC") return std::nullopt;
    try {
      if (ok("DATE-OBS") && ok("DATE") && str("DATE-OBS") == str("DATE")) {
        // A date fixed up from DATE: the Az/El is the truth.
        auto aa = altaz_begin();
        auto loc = location();
        auto begin = datetime_begin();
        if (!aa || !loc || !begin) return std::nullopt;
        return altaz_to_radec(*aa, *begin, *loc);
      }
      return tracking_from({"RADESYS"}, {{"RASTART", "DECSTART"}, {"RA", "DEC"}});
    } catch (const MissingKeys&) {
      if (on_sky()) throw;
      return std::nullopt;
    }
  }
  std::optional<AltAz> altaz_begin() const override {
    if (!on_mountain()) return std::nullopt;
    if (controller() == "H" && !all_ok({"ELSTART", "AZSTART"})) return std::nullopt;
    return altaz_from({{"ELSTART", "AZSTART"}}, false, -5.55);
  }
  std::optional<double> temperature() const override { return opt_num("AIRTEMP"); }
  std::optional<double> pressure() const override {
    if (!ok("PRESSURE")) return std::nullopt;
    double v = num("PRESSURE");
    return v > 10000 ? v : v * 100.0;
  }
  std::optional<double> relative_humidity() const override { return opt_num("HUMIDITY"); }
  std::optional<bool> has_simulated_content() const override {
    for (const auto& card : h_)
      if (card.keyword.find("SIMULATE") != std::string::npos && truthy(card.keyword)) return true;
    auto c = controller();
    return c && kSimulatedControllers.find((*c)[0]) != std::string_view::npos;
  }
  std::optional<bool> can_see_sky() const override {
    if (ok("SHUTTIME") && num("SHUTTIME") == 0.0) return false;
    if (ok("VIGN_MIN")) return str("VIGN_MIN") != "FULLY";
    if (!obstype_decides_sky() && !has_simulated_content().value_or(false)) return std::nullopt;
    return Translator::can_see_sky();
  }
  std::optional<double> focus_z() const override {
    if (ok("FOCUSZ")) return num("FOCUSZ");
    return 0.0;
  }

 protected:
  bool is_non_sky_type(const std::string& t) const override {
    return t == "bias" || t == "dark" || t == "flat";
  }
  virtual bool on_mountain() const { return !h_.contains("TSTAND"); }
  virtual Location default_location() const { return kSimonyi; }
  virtual double day_offset(TaiTime) const { return kTwelveHours; }
  virtual bool obstype_decides_sky() const { return true; }
  bool on_sky() const {
    if (ok("TRACKSYS") && lower(str("TRACKSYS")) == "local") return false;
    if (is_non_sky_type(obs_type_or_empty())) return false;
    return on_mountain();
  }
  std::optional<std::string> controller() const { return opt_str("CONTRLLR"); }
  static SkyPosition altaz_to_radec(const AltAz& aa, TaiTime t, const Location& loc) {
    double u1 = 0, u2 = 0;
    eraTaiutc(2400000.5, t.mjd_tai(), &u1, &u2);
    double elong = 0, phi = 0, height = 0;
    double xyz[3] = {loc.x_m, loc.y_m, loc.z_m};
    eraGc2gd(ERFA_WGS84, xyz, &elong, &phi, &height);
    double ri = 0, di = 0;
    eraAtoc13("A", aa.az_deg * ERFA_DD2R, (90.0 - aa.alt_deg) * ERFA_DD2R, u1, u2, 0.0, elong,
              phi, height, 0, 0, 0, 0, 0, 0.55, &ri, &di);
    return {eraAnp(ri) * ERFA_DR2D, di * ERFA_DR2D};
  }

  std::string camera_;
};
}  // namespace majordome::instrument::detail
