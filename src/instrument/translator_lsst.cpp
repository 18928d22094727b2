// Translators for Rubin (LSST) cameras: LATISS, LSSTCam, LSSTComCam, LSSTComCamSim,
// LSSTCamSim, TestCam (our simulator's camera), imSim and PhoSim. The rules follow obs_lsst's
// translators (facts: keyword names, dates, numbering), written anew.
#include <erfa.h>
#include <erfam.h>

#include <array>
#include <cstdlib>
#include <regex>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/instrument/translator.hpp"
#include "translator_lsst.hpp"

namespace majordome::instrument {

namespace {
using detail::kScienceSensors;
constexpr std::string_view kControllers = "OCHPQS";  // order fixes the exposure-id digit
constexpr std::array<std::string_view, 21> kScienceRafts = {
    "R01", "R02", "R03", "R10", "R11", "R12", "R13", "R14", "R20", "R21", "R22",
    "R23", "R24", "R30", "R31", "R32", "R33", "R34", "R41", "R42", "R43"};
constexpr std::array<std::string_view, 4> kCornerRafts = {"R00", "R04", "R40", "R44"};
constexpr std::array<std::string_view, 4> kCornerSensors = {"SG0", "SG1", "SW0", "SW1"};

}  // namespace

// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t detail::days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

namespace {
using detail::days_from_civil;

std::int64_t day_ordinal(std::int64_t yyyymmdd) {
  return days_from_civil(yyyymmdd / 10000, static_cast<unsigned>(yyyymmdd / 100 % 100),
                         static_cast<unsigned>(yyyymmdd % 100));
}
}  // namespace

std::int64_t lsst_exposure_id(std::string_view day_obs, std::int64_t seq_num,
                              std::optional<char> controller) {
  std::string d(day_obs.substr(0, day_obs.find('T')));
  std::erase(d, '-');
  if (d.size() != 8 || d.find_first_not_of("0123456789") != std::string::npos)
    throw InvalidArgumentError(fmt::format("malformed day_obs '{}': expected YYYYMMDD", day_obs));
  if (seq_num < 0 || seq_num >= 100000)
    throw InvalidArgumentError(fmt::format("sequence number {} exceeds the limit 99999", seq_num));
  std::int64_t day = std::stoll(d);
  if (controller == 'C' && day > 20231004) controller.reset();
  if (controller && std::string_view("PQS").find(*controller) != std::string_view::npos &&
      day > 20250417)
    controller.reset();
  if (controller) {
    auto index = kControllers.find(*controller);
    if (index == std::string_view::npos)
      throw InvalidArgumentError(
          fmt::format("controller '{}' is not one of {}", *controller, kControllers));
    day += 10000000LL * static_cast<std::int64_t>(index);
  }
  return day * 100000 + seq_num;
}

std::int64_t lsst_detector_exposure_id(std::int64_t exposure_id, int detector) {
  if (detector < 0 || detector >= 256)
    throw InvalidArgumentError(fmt::format("detector {} out of range 0..255", detector));
  std::int64_t day_obs = exposure_id / 100000, seq = exposure_id % 100000;
  std::int64_t controller = day_obs / 10000000 - 2;
  day_obs -= controller * 10000000;
  if (controller < 0 || controller >= 8)
    throw InvalidArgumentError(fmt::format("exposure id {} is not a Rubin exposure id", exposure_id));
  std::int64_t days = day_ordinal(day_obs) - day_ordinal(20100101);
  return detector + 256 * (seq + 32768 * (days + 16384 * controller));
}

std::optional<int> lsst_detector_number(std::string_view camera, std::string_view raft,
                                        std::string_view sensor) {
  auto index_of = [](const auto& list, std::string_view v) -> int {
    for (std::size_t i = 0; i < list.size(); ++i)
      if (list[i] == v) return static_cast<int>(i);
    return -1;
  };
  std::string cam = detail::lower(camera);
  if (cam == "latiss") return (raft == "RXX" || raft == "R00") && sensor == "S00" ? std::optional(0) : std::nullopt;
  if (cam == "lsstcomcam" || cam == "lsstcomcamsim") {
    int s = index_of(kScienceSensors, sensor);
    return raft == "R22" && s >= 0 ? std::optional(s) : std::nullopt;
  }
  if (cam == "lsstcam" || cam == "lsstcamsim" || cam == "lsstcam-imsim" || cam == "lsstcam-phosim") {
    int r = index_of(kScienceRafts, raft), s = index_of(kScienceSensors, sensor);
    if (r >= 0 && s >= 0) return r * 9 + s;
    r = index_of(kCornerRafts, raft), s = index_of(kCornerSensors, sensor);
    if (r >= 0 && s >= 0) return 189 + r * 4 + s;
  }
  return std::nullopt;
}

namespace detail {
namespace {

const Location kAuxTel = geodetic(-70.747698, -30.244728, 2663.0);

TaiTime utc(const char* iso) { return TaiTime::from_utc_iso(iso); }

// US Pacific offset from UTC (seconds, positive) at `t`: 7 h in daylight-saving time.
double pacific_offset(TaiTime t) {
  std::string iso = t.utc_iso(0);
  int y = std::stoi(iso.substr(0, 4));
  auto nth_sunday = [y](unsigned month, int n) {  // n < 0: last Sunday
    std::int64_t first = days_from_civil(y, month, 1);
    int wd = static_cast<int>(((first % 7) + 11) % 7);  // 0 = Sunday (1970-01-01 was Thursday)
    int first_sunday = 1 + (7 - wd) % 7;
    if (n > 0) return first_sunday + 7 * (n - 1);
    int days = month == 10 ? 31 : 30;
    int last = first_sunday;
    while (last + 7 <= days) last += 7;
    return last;
  };
  int sm, sd, em, ed;
  if (y >= 2007) sm = 3, sd = nth_sunday(3, 2), em = 11, ed = nth_sunday(11, 1);
  else sm = 4, sd = nth_sunday(4, 1), em = 10, ed = nth_sunday(10, -1);
  TaiTime start = TaiTime::from_utc_calendar(y, sm, sd, 10, 0, 0);  // 02:00 PST
  TaiTime end = TaiTime::from_utc_calendar(y, em, ed, 9, 0, 0);     // 02:00 PDT
  return (t >= start && t < end) ? 7 * 3600.0 : 8 * 3600.0;
}


// LSSTCam (obs_lsst LsstCamTranslator).
class LsstCam : public LsstBase {
 public:
  using LsstBase::LsstBase;
  explicit LsstCam(const image::Header& h) : LsstBase(h, "LSSTCam") {}

  std::optional<double> exposure_time() const override {
    if (ok("SHUTTIME") && num("SHUTTIME") > 0.0) return num("SHUTTIME");
    return exposure_time_requested();
  }
  std::optional<double> exposure_time_requested() const override { return num("EXPTIME"); }
  std::optional<std::string> physical_filter() const override {
    std::string joined = *LsstBase::physical_filter();
    while (joined.ends_with("~empty")) joined.resize(joined.size() - 6);
    return joined;
  }
  std::optional<bool> can_see_sky() const override {
    if (!on_mountain()) return false;
    return LsstBase::can_see_sky();
  }

 protected:
  bool on_mountain() const override {
    if (controller() == "H") return true;
    return *datetime_begin() > utc("2025-03-01T00:00:00");
  }
  double day_offset(TaiTime t) const override {
    std::string iso = t.utc_iso(0);
    int yyyymm = std::stoi(iso.substr(0, 4)) * 100 + std::stoi(iso.substr(5, 2));
    return yyyymm >= ship_yyyymm() ? kTwelveHours : pacific_offset(t);
  }
  virtual int ship_yyyymm() const { return 202405; }
  bool obstype_decides_sky() const override { return false; }
};

const std::map<std::string, std::string>& comcam_serials() {
  static const std::map<std::string, std::string> m = {
      {"S00", "ITL-3800C-229"}, {"S01", "ITL-3800C-251"}, {"S02", "ITL-3800C-215"},
      {"S10", "ITL-3800C-326"}, {"S11", "ITL-3800C-283"}, {"S12", "ITL-3800C-243"},
      {"S20", "ITL-3800C-319"}, {"S21", "ITL-3800C-209"}, {"S22", "ITL-3800C-206"}};
  return m;
}

class LsstComCam : public LsstCam {
 public:
  explicit LsstComCam(const image::Header& h, std::string camera = "LSSTComCam")
      : LsstCam(h, std::move(camera)) {}

 protected:
  bool on_mountain() const override {
    if (controller() == "H") return true;
    return *datetime_begin() > utc("2020-03-13T00:00:00");
  }
  int ship_yyyymm() const override { return 202003; }
};

class LsstComCamSim : public LsstComCam {
 public:
  explicit LsstComCamSim(const image::Header& h) : LsstComCam(h, "LSSTComCamSim") {}
  std::optional<AltAz> altaz_begin() const override {
    if (all_ok({"ELSTART", "AZSTART"})) return LsstComCam::altaz_begin();
    if (all_ok({"RA", "DEC"})) {
      auto radec = tracking_radec();
      auto loc = location();
      if (radec && loc) return radec_to_altaz(*radec, *datetime_begin(), *loc);
    }
    return std::nullopt;
  }

 protected:
  bool on_mountain() const override { return true; }
  double day_offset(TaiTime) const override { return kTwelveHours; }
};

class LsstCamSim : public LsstCam {
 public:
  explicit LsstCamSim(const image::Header& h) : LsstCam(h, "LSSTCamSim") {}

 protected:
  bool on_mountain() const override { return true; }
  double day_offset(TaiTime) const override { return kTwelveHours; }
};

// Our simulator's camera: ComCam-like keywords plus an integer DETECTOR.
class TestCam : public LsstCam {
 public:
  explicit TestCam(const image::Header& h) : LsstCam(h, "TestCam") {}
  std::optional<int> detector_num() const override { return static_cast<int>(integer("DETECTOR")); }
  std::optional<std::string> detector_serial() const override {
    return opt_str("LSST_NUM").value_or(fmt::format("TestCam-{}", integer("DETECTOR")));
  }
  std::optional<bool> has_simulated_content() const override { return true; }

 protected:
  bool on_mountain() const override { return true; }
  double day_offset(TaiTime) const override { return kTwelveHours; }
};

// LATISS on the Rubin Auxiliary Telescope (obs_lsst LatissTranslator).
class Latiss : public LsstBase {
 public:
  explicit Latiss(const image::Header& h) : LsstBase(h, "LATISS") {}
  std::optional<std::string> telescope() const override { return "Rubin Auxiliary Telescope"; }
  std::optional<int> detector_num() const override { return 0; }
  std::optional<std::string> detector_name() const override { return "S00"; }
  std::optional<std::string> detector_group() const override { return "RXX"; }
  std::optional<std::string> detector_serial() const override {
    if (auto s = first_str({"LSST_NUM", "DETSER"})) return s;
    missing({"LSST_NUM", "DETSER"}, "no detector serial");
  }
  std::optional<std::string> science_program() const override {
    return opt_str("PROGRAM").value_or("unknown");
  }
  std::optional<std::string> observation_id() const override {
    if (auto s = first_str({"OBSID", "IMGNAME"})) return s;
    if (obs_type_or_empty() == "science") missing({"OBSID", "IMGNAME"}, "no observation id");
    return std::nullopt;
  }
  std::optional<std::string> object() const override {
    if (ok("OBJECT")) return str("OBJECT");
    if (obs_type_or_empty() == "science" && on_mountain())
      missing({"OBJECT"}, "no OBJECT for a science observation on the mountain");
    return "UNKNOWN";
  }
  std::optional<double> boresight_rotation_angle() const override {
    if (auto v = first_num({"ROTPA", "ROTANGLE"})) return *v;
    if (obs_type_or_empty() == "science" && on_mountain())
      missing({"ROTPA", "ROTANGLE"}, "no rotation angle for a science observation on the mountain");
    return std::nullopt;
  }
  std::optional<double> exposure_time() const override {
    if (ok("EXPTIME")) return num("EXPTIME");
    return -1.0;
  }
  std::optional<double> dark_time() const override {
    double exptime = *exposure_time();
    if (ok("DARKTIME") && num("DARKTIME") >= exptime) return num("DARKTIME");
    return exptime;
  }
  std::optional<std::string> observation_type() const override {
    for (auto k : {"OBSTYPE", "IMGTYPE"}) {
      if (!ok(k)) continue;
      std::string t = lower(str(k));
      if (t == "object" && !on_mountain()) return "labobject";
      if (t == "skyexp" || t == "object") return "science";
      return t;
    }
    return *exposure_time() == 0.0 ? "bias" : "unknown";
  }
  std::optional<std::string> physical_filter() const override {
    std::string filter = "unknown";
    static const std::regex kEmpty(R"(^empty_?\d*$)");
    if (ok("FILTER")) {
      filter = str("FILTER");
      if (std::regex_match(lower(filter), kEmpty)) filter = "empty";
    }
    std::string grating = "unknown";
    if (ok("GRATING")) {
      grating = str("GRATING");
      if (grating.empty() || lower(grating).starts_with("empty")) grating = "empty";
    }
    return filter + "~" + grating;
  }

 protected:
  bool on_mountain() const override { return *datetime_begin() > utc("2020-01-01T00:00:00"); }
  Location default_location() const override { return kAuxTel; }
};

// Shared by imSim and PhoSim (obs_lsst LsstSimTranslator).
class LsstSim : public LsstBase {
 public:
  using LsstBase::LsstBase;
  std::optional<std::string> telescope() const override {
    if ((ok("OUTFILE") && str("OUTFILE").starts_with("lsst")) || h_.contains("LSST_NUM"))
      return "Simonyi Survey Telescope";
    return std::nullopt;
  }
  std::optional<Location> location() const override {
    if (telescope()) return kSimonyi;
    return std::nullopt;
  }
  std::optional<std::int64_t> exposure_id() const override { return integer("OBSID"); }
  std::optional<std::int64_t> visit_id() const override { return integer("OBSID"); }
  std::optional<std::string> observation_id() const override { return str("OBSID"); }
  std::optional<std::int64_t> observation_counter() const override { return 0; }
  std::optional<std::string> science_program() const override { return str("RUNNUM"); }
  std::optional<std::string> object() const override { return "UNKNOWN"; }
  std::optional<std::string> detector_group() const override { return str("RAFTNAME"); }
  std::optional<std::string> detector_name() const override { return str("SENSNAME"); }
  std::optional<double> exposure_time() const override { return num("EXPTIME"); }
  std::optional<double> dark_time() const override { return num("DARKTIME"); }
  std::optional<std::string> boresight_rotation_coord() const override { return "sky"; }
  std::optional<double> relative_humidity() const override { return 40.0; }
  std::optional<bool> has_simulated_content() const override { return true; }
  std::optional<std::int64_t> detector_exposure_id() const override {
    return *exposure_id() * 1000 + *detector_num();
  }
  std::optional<double> observing_day_offset() const override { return 0.0; }
  std::optional<int> observing_day() const override { return Translator::observing_day(); }
  std::optional<AltAz> altaz_begin() const override {
    if (obs_type_or_empty() != "science") return std::nullopt;
    auto radec = tracking_radec();
    auto loc = location();
    if (!radec || !loc) return std::nullopt;
    return radec_to_altaz(*radec, *datetime_begin(), *loc);
  }
  std::optional<double> boresight_airmass() const override {
    if (auto v = first_num({"AIRMASS", "AMSTART"})) return v;
    if (auto aa = altaz_begin()) return 1.0 / std::cos((90.0 - aa->alt_deg) * ERFA_DD2R);
    return std::nullopt;
  }

 protected:
  bool on_mountain() const override { return true; }
};

class ImSim : public LsstSim {
 public:
  explicit ImSim(const image::Header& h) : LsstSim(h, "LSSTCam-imSim") {}
  std::optional<double> temperature() const override { return std::nullopt; }
  std::optional<double> pressure() const override { return std::nullopt; }
  std::optional<SkyPosition> tracking_radec() const override {
    return tracking_from({"RADESYS"}, {{"RATEL", "DECTEL"}});
  }
  std::optional<double> boresight_rotation_angle() const override {
    double a = std::fmod(90.0 - num("ROTANGLE"), 360.0);
    return a < 0 ? a + 360.0 : a;
  }
  std::optional<std::string> physical_filter() const override {
    for (const auto& card : h_) {
      if (card.keyword.starts_with("PKG") && header_str(h_, card.keyword) == "throughputs") {
        std::string ver = strip(str("VER" + card.keyword.substr(3)));
        return str("FILTER") + "_sim_" + ver;
      }
    }
    return str("FILTER");
  }
  std::optional<AltAz> altaz_begin() const override {
    if (obs_type_or_empty() != "science") return std::nullopt;
    if (!all_ok({"HASTART", "DECTEL"})) return LsstSim::altaz_begin();
    double elong = 0, phi = 0, height = 0;
    double xyz[3] = {kSimonyi.x_m, kSimonyi.y_m, kSimonyi.z_m};
    eraGc2gd(ERFA_WGS84, xyz, &elong, &phi, &height);
    double az = 0, el = 0;
    eraHd2ae(num("HASTART") * ERFA_DD2R, num("DECTEL") * ERFA_DD2R, phi, &az, &el);
    return AltAz{az * ERFA_DR2D, el * ERFA_DR2D};
  }
};

class PhoSim : public LsstSim {
 public:
  explicit PhoSim(const image::Header& h) : LsstSim(h, "LSSTCam-PhoSim") {}
  std::optional<double> temperature() const override { return opt_num("TEMPERA"); }
  std::optional<double> pressure() const override {
    if (!ok("PRESS")) return std::nullopt;
    return num("PRESS") * 133.322387415;  // mmHg
  }
  std::optional<SkyPosition> tracking_radec() const override {
    return tracking_from({"RADESYS"}, {{"RATEL", "DECTEL"}, {"RA_DEG", "DEC_DEG"}});
  }
  std::optional<double> boresight_rotation_angle() const override {
    double a = std::fmod(90.0 - num("ROTANGLE"), 360.0);
    return a < 0 ? a + 360.0 : a;
  }
  std::optional<std::string> physical_filter() const override { return str("FILTER"); }
  std::optional<double> boresight_airmass() const override { return opt_num("AIRMASS"); }
};

// ---- built-in header fix-ups ------------------------------------------------------------

TaiTime begin_of(const image::Header& h) {
  Latiss t(h);
  return *t.datetime_begin();
}

bool fix_latiss(image::Header& h) {
  bool modified = false;
  auto obsid = header_str(h, "OBSID");
  if (!h.contains("OBSID") && header_str(h, "IMGNAME")) {
    h.set("OBSID", *header_str(h, "IMGNAME"));
    obsid = header_str(h, "OBSID");
    modified = true;
  }
  auto split = [&obsid](std::size_t index) -> std::optional<std::string> {
    if (!obsid) return std::nullopt;
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (int i = 0; i < 3; ++i) {
      auto p = obsid->find('_', start);
      if (p == std::string::npos) break;
      parts.push_back(obsid->substr(start, p - start));
      start = p + 1;
    }
    parts.push_back(obsid->substr(start));
    return index < parts.size() ? std::optional(parts[index]) : std::nullopt;
  };
  if (!h.contains("DAYOBS")) {
    auto day = split(2);
    if (!day || day->size() != 8) day = header_str(h, "OBS-NITE");
    if (day) h.set("DAYOBS", *day), modified = true;
  }
  if (!h.contains("SEQNUM")) {
    if (auto seq = split(3); seq && !seq->empty() && seq->find_first_not_of("0123456789") == std::string::npos)
      h.set("SEQNUM", std::stoll(*seq)), modified = true;
  }
  if (auto d = header_str(h, "DATE-OBS"); d && d->starts_with("1970")) {
    h.set("DATE-OBS", h.find("DATE").value_or(std::monostate{}));
    h.set("DATE-BEG", h.find("DATE-OBS").value_or(std::monostate{}));
    h.set("MJD-OBS", h.find("MJD").value_or(std::monostate{}));
    h.set("MJD-BEG", h.find("MJD-OBS").value_or(std::monostate{}));
    h.set("DATE-END", std::monostate{});
    h.set("MJD-END", std::monostate{});
    modified = true;
  }
  TaiTime date = begin_of(h);
  if (date > utc("2019-06-24T00:00:00")) h.set("LSST_NUM", "ITL-3800C-068"), modified = true;
  if (date < utc("2020-02-01T00:00:00") && header_str(h, "DATE-END").value_or("") != "") {
    h.set("DATE-END", std::monostate{});
    h.set("MJD-END", std::monostate{});
    modified = true;
  }
  if (date < utc("2019-11-07T00:00:00")) {
    auto group = header_str(h, "GROUPID");
    if (group && !group->empty() && !group->starts_with("test")) {
      auto imgtype = header_str(h, "IMGTYPE");
      if (!imgtype || imgtype->empty()) {
        std::string g = *group;
        if (g.find('_') != std::string::npos) {
          g = g.substr(0, g.find('_'));
        } else if (upper(g) != "FOCUS" && upper(g).starts_with("FOCUS")) {
          g = "FOCUS";
        } else {
          h.set("GROUPID", std::monostate{});
        }
        h.set("IMGTYPE", g);
        modified = true;
      } else if (*imgtype == *group) {
        h.set("GROUPID", std::monostate{});
      }
    }
  }
  if (date < utc("2020-01-27T20:00:00") && header_str(h, "IMGTYPE") == "OBJECT")
    h.set("IMGTYPE", "ENGTEST"), modified = true;
  if (date < utc("2020-01-28T22:00:00")) {
    for (auto k : {"RA", "DEC"})
      if (auto v = header_num(h, k)) h.set(k, *v * ERFA_DR2D), modified = true;
  }
  if (header_num(h, "SHUTTIME").value_or(0.0) != 0.0) h.set("SHUTTIME", std::monostate{}), modified = true;
  if (!h.contains("OBJECT") && header_str(h, "IMGTYPE") == "OBJECT") h.set("OBJECT", "NOTSET"), modified = true;
  if (h.contains("RADESYS") && header_str(h, "RADESYS").value_or("") == "")
    h.set("RADESYS", "ICRS"), modified = true;
  if (date < utc("2020-05-01T00:00:00"))
    for (auto k : {"RASTART", "DECSTART", "RAEND", "DECEND"}) h.set(k, std::monostate{});
  return modified;
}

bool fix_lsstcam(image::Header& h) {
  bool modified = false;
  if (!h.contains("FILTER") && header_str(h, "FILTER2")) h.set("FILTER2", std::monostate{}), modified = true;
  auto day = header_str(h, "DAYOBS");
  std::int64_t iday = day ? std::atoll(day->c_str()) : 0;
  if ((day == "20231107" || day == "20231108" || day == "20241015" || day == "20241016") &&
      header_str(h, "FILTER") == "ph_05")
    h.set("FILTER", "ph_5"), modified = true;
  if (iday > 20250301 && iday < 20250422)
    if (auto rot = header_num(h, "ROTPA"); rot && *rot != 0.0) h.set("ROTPA", *rot - 90.0), modified = true;
  if (iday == 20250422 && header_num(h, "SEQNUM").value_or(1e9) < 251) {
    if (auto rot = header_num(h, "ROTPA"); rot && *rot != 0.0) {
      double a = std::fmod(*rot - 180.0 + 180.0, 360.0);
      if (a < 0) a += 360.0;
      h.set("ROTPA", a - 180.0);
      modified = true;
    }
  }
  return modified;
}

bool fix_comcam(image::Header& h) {
  bool modified = false;
  auto filter = header_str(h, "FILTER");
  if (!filter) {
    h.set("FILTER", "unknown");
    modified = true;
  } else if (*filter == "r" || filter->empty()) {
    LsstComCam t(h);
    h.set("FILTER", *t.datetime_begin() > utc("2020-03-13T00:00:00") ? "empty" : "r_03");
    modified = true;
  }
  if (!h.contains("LSST_NUM")) {
    auto slot = header_str(h, "CCDSLOT");
    if (slot && comcam_serials().contains(*slot)) {
      h.set("LSST_NUM", comcam_serials().at(*slot));
      modified = true;
    }
  }
  return modified;
}

bool fix_comcamsim(image::Header& h) {
  bool modified = false;
  for (auto key : {"RA", "DEC"}) {
    for (auto when : {"START", "END"}) {
      std::string k = std::string(key) + when;
      if (!header_num(h, k).value_or(0.0))
        if (auto v = header_num(h, key); v && *v != 0.0) h.set(k, *v), modified = true;
    }
  }
  if (header_str(h, "RADESYS").value_or("").empty() && header_num(h, "RA").value_or(0.0) != 0.0 &&
      header_num(h, "DEC").value_or(0.0) != 0.0)
    h.set("RADESYS", "ICRS"), modified = true;
  if (header_str(h, "TELCODE").value_or("").empty()) {
    if (auto cam = header_str(h, "CAMCODE"); cam && !cam->empty()) {
      h.set("TELCODE", *cam);
    } else if (auto obsid = header_str(h, "OBSID")) {
      h.set("TELCODE", obsid->substr(0, obsid->find('_')));
    }
    modified = true;
  }
  return modified;
}

bool instrume_is(const image::Header& h, std::initializer_list<std::string_view> names) {
  auto v = header_str(h, "INSTRUME");
  if (!v) return false;
  std::string l = lower(*v);
  for (auto n : names)
    if (l == n) return true;
  return false;
}
bool on_lsst_telescope(const image::Header& h) {
  auto t = header_str(h, "TELESCOP");
  return t == "Simonyi Survey Telescope" || t == "LSST";
}


}  // namespace

std::vector<Registration> lsst_translators() {
  return {
      {"LSST_LATISS",
       [](const image::Header& h) {
         auto v = header_str(h, "INSTRUME");
         return v == "LSST_ATISS" || v == "LATISS" || header_str(h, "DETNAME") == "RXX_S00";
       },
       maker<Latiss>(), fix_latiss, "LATISS"},
      {"LSSTCam", [](const image::Header& h) { return instrume_is(h, {"lsstcam"}); },
       maker<LsstCam>(), fix_lsstcam, "LSSTCam"},
      {"LSSTComCam",
       [](const image::Header& h) {
         return on_lsst_telescope(h) &&
                (instrume_is(h, {"comcam", "lsstcomcam"}) || header_str(h, "TELCODE") == "CC");
       },
       maker<LsstComCam>(), fix_comcam,
       "LSSTComCam"},
      {"LSSTComCamSim",
       [](const image::Header& h) { return on_lsst_telescope(h) && instrume_is(h, {"comcamsim", "lsstcomcamsim"}); },
       maker<LsstComCamSim>(), fix_comcamsim, "LSSTComCamSim"},
      {"LSSTCamSim",
       [](const image::Header& h) { return on_lsst_telescope(h) && instrume_is(h, {"lsstcamsim"}); },
       maker<LsstCamSim>(), nullptr, "LSSTCamSim"},
      {"TestCam", [](const image::Header& h) { return instrume_is(h, {"testcam"}); },
       maker<TestCam>(), nullptr, "TestCam"},
      {"LSSTCam-imSim", [](const image::Header& h) { return header_str(h, "TESTTYPE") == "IMSIM"; },
       maker<ImSim>(), nullptr, "LSSTCam-imSim"},
      {"LSSTCam-PhoSim", [](const image::Header& h) { return header_str(h, "CREATOR") == "PHOSIM"; },
       maker<PhoSim>(), nullptr, "LSSTCam-PhoSim"},
  };
}

}  // namespace detail
}  // namespace majordome::instrument
