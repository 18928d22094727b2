// Translators for non-Rubin instruments: Subaru HSC and Suprime-Cam, CFHT MegaPrime,
// DECam, SDSS and the forced afw VisitInfo translator. The rules follow
// astro_metadata_translator's translators (facts: keywords, formulas, tables).
#include <erfa.h>
#include <erfam.h>

#include <array>
#include <regex>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "translator_impl.hpp"

namespace majordome::instrument::detail {
namespace {

double wrap360(double a) {
  a = std::fmod(a, 360.0);
  return a < 0 ? a + 360.0 : a;
}
TaiTime plus_s(TaiTime t, double s) { return TaiTime(t.ns() + static_cast<std::int64_t>(std::llround(s * 1e9))); }
double secz(const AltAz& aa) { return 1.0 / std::cos((90.0 - aa.alt_deg) * ERFA_DD2R); }

// Suprime-Cam (and the base of HSC).
class SuprimeCam : public Translator {
 public:
  using Translator::Translator;
  std::optional<Location> location() const override { return geodetic(-155.476667, 19.825556, 4139.0); }
  std::optional<TaiTime> datetime_begin() const override {
    return fits_date(str("DATE-OBS").substr(0, 10) + "T" + str("UT-STR"), "utc");
  }
  std::optional<TaiTime> datetime_end() const override {
    TaiTime end = fits_date(str("DATE-OBS").substr(0, 10) + "T" + str("UT-END"), "utc");
    TaiTime min_end = plus_s(*datetime_begin(), *exposure_time());
    return end < min_end ? min_end : end;
  }
  std::optional<double> exposure_time() const override { return num("EXPTIME"); }
  std::optional<double> dark_time() const override { return num("EXPTIME"); }
  std::optional<std::int64_t> exposure_id() const override {
    std::string id = strip(str("EXP-ID"));
    static const std::regex kRe(R"(^SUP[A-Z](\d{7})0$)");
    std::smatch m;
    if (!std::regex_match(id, m, kRe)) missing({"EXP-ID"}, fmt::format("unable to interpret EXP-ID '{}'", id));
    std::int64_t exposure = std::stoll(m[1].str());
    if (exposure == 0) {
      std::string frame = strip(str("FRAMEID"));
      static const std::regex kFrame(R"(^SUP[A-Z](\d{7})\d$)");
      if (!std::regex_match(frame, m, kFrame))
        missing({"FRAMEID"}, fmt::format("unable to interpret FRAMEID '{}'", frame));
      exposure = std::stoll(m[1].str());
    }
    return exposure;
  }
  std::optional<std::int64_t> observation_counter() const override { return exposure_id(); }
  std::optional<std::string> physical_filter() const override {
    std::string v = upper(strip(str("FILTER01")));
    if (v == "UNRECOGNIZED" || v == "UNRECOGNISED" || v == "NOTSET" || v == "UNKNOWN") return "unknown";
    if (v == "NONE") return "empty";
    return v;
  }
  std::optional<std::string> observation_type() const override {
    std::string t = lower(strip(str("DATA-TYP")));
    return t == "object" ? "science" : t;
  }
  std::optional<std::string> observation_id() const override { return str("EXP-ID"); }
  std::optional<std::string> science_program() const override { return str("PROP-ID"); }
  std::optional<std::string> object() const override { return str("OBJECT"); }
  std::optional<double> observing_day_offset() const override { return 0.0; }
  std::optional<int> detector_num() const override { return static_cast<int>(integer("DET-ID")); }
  std::optional<std::string> detector_name() const override {
    static const std::array<const char*, 10> kNames = {"nausicaa", "kiki", "fio", "sophie", "sheeta",
                                                       "satsuki", "chihiro", "clarisse", "ponyo", "san"};
    int n = *detector_num();
    if (n < 0 || n >= 10) missing({"DET-ID"}, fmt::format("DET-ID {} out of range 0..9", n));
    return kNames[static_cast<std::size_t>(n)];
  }
  std::optional<std::string> detector_group() const override { return std::nullopt; }
  std::optional<std::string> detector_serial() const override { return str("DETECTOR"); }
  std::optional<std::int64_t> detector_exposure_id() const override { return *exposure_id() * 10 + *detector_num(); }
  std::optional<double> boresight_airmass() const override { return num("AIRMASS"); }
  std::optional<double> boresight_rotation_angle() const override { return wrap360(num("INR-STR")); }
  std::optional<std::string> boresight_rotation_coord() const override { return "unknown"; }
  std::optional<SkyPosition> tracking_radec() const override {
    return SkyPosition{sexagesimal(str("RA2000"), true), sexagesimal(str("DEC2000"), false)};
  }
  std::optional<AltAz> altaz_begin() const override { return altaz_from({{"ALTITUDE", "AZIMUTH"}}); }
  std::optional<double> temperature() const override { return num("OUT-TMP") - 273.15; }
  std::optional<double> pressure() const override { return num("OUT-PRS") * 100.0; }
  std::optional<double> relative_humidity() const override { return num("OUT-HUM"); }
};

const std::array<const char*, 112> kHscNames = {
    "1_53", "1_54", "1_55", "1_56", "1_42", "1_43", "1_44", "1_45", "1_46", "1_47", "1_36", "1_37",
    "1_38", "1_39", "1_40", "1_41", "0_30", "0_29", "0_28", "1_32", "1_33", "1_34", "0_27", "0_26",
    "0_25", "0_24", "1_00", "1_01", "1_02", "1_03", "0_23", "0_22", "0_21", "0_20", "1_04", "1_05",
    "1_06", "1_07", "0_19", "0_18", "0_17", "0_16", "1_08", "1_09", "1_10", "1_11", "0_15", "0_14",
    "0_13", "0_12", "1_12", "1_13", "1_14", "1_15", "0_11", "0_10", "0_09", "0_08", "1_16", "1_17",
    "1_18", "1_19", "0_07", "0_06", "0_05", "0_04", "1_20", "1_21", "1_22", "1_23", "0_03", "0_02",
    "0_01", "0_00", "1_24", "1_25", "1_26", "1_27", "0_34", "0_33", "0_32", "1_28", "1_29", "1_30",
    "0_41", "0_40", "0_39", "0_38", "0_37", "0_36", "0_47", "0_46", "0_45", "0_44", "0_43", "0_42",
    "0_56", "0_55", "0_54", "0_53", "0_31", "1_35", "0_35", "1_31", "1_48", "1_51", "1_52", "1_57",
    "0_57", "0_52", "0_51", "0_48"};

class Hsc : public SuprimeCam {
 public:
  using SuprimeCam::SuprimeCam;
  std::optional<std::string> instrument() const override { return "HSC"; }
  std::optional<std::int64_t> exposure_id() const override {
    std::string id = strip(str("EXP-ID"));
    std::smatch m;
    static const std::regex kNew(R"(^HSCE(\d{8})$)");
    if (std::regex_match(id, m, kNew)) return std::stoll(m[1].str());
    static const std::regex kOld(R"(^HSC([A-Z])(\d{6})00$)");
    if (!std::regex_match(id, m, kOld)) missing({"EXP-ID"}, fmt::format("unable to interpret EXP-ID '{}'", id));
    char letter = m[1].str()[0];
    std::int64_t visit = std::stoll(m[2].str());
    if (visit == 0) {
      std::string frame = strip(str("FRAMEID"));
      static const std::regex kFrame(R"(^HSC([A-Z])(\d{6})\d{2}$)");
      if (!std::regex_match(frame, m, kFrame))
        missing({"FRAMEID"}, fmt::format("unable to interpret FRAMEID '{}'", frame));
      letter = m[1].str()[0];
      visit = std::stoll(m[2].str());
      if (visit % 2) --visit;
    }
    return visit + 1000000 * (letter - 'A');
  }
  std::optional<double> boresight_rotation_angle() const override { return wrap360(270.0 - num("INST-PA")); }
  std::optional<std::string> boresight_rotation_coord() const override { return "sky"; }
  std::optional<int> detector_num() const override {
    int ccd = static_cast<int>(integer("DET-ID"));
    if (ok("MJD")) {
      double tjd = std::floor(num("MJD")) - 55927;
      static const std::map<int, int> kCommissioning2 = {{112, 106}, {107, 105}, {113, 107},
                                                         {115, 109}, {108, 110}, {114, 108}};
      if (tjd > 390 && tjd < 405 && kCommissioning2.contains(ccd)) ccd = kCommissioning2.at(ccd);
    }
    return ccd;
  }
  std::optional<std::int64_t> detector_exposure_id() const override { return *exposure_id() * 200 + *detector_num(); }
  std::optional<std::string> detector_unique_name() const override {
    int n = *detector_num();
    if (n < 0 || n >= static_cast<int>(kHscNames.size()))
      missing({"DET-ID"}, fmt::format("DET-ID {} out of range 0..111", n));
    return kHscNames[static_cast<std::size_t>(n)];
  }
  std::optional<std::string> detector_group() const override {
    std::string u = *detector_unique_name();
    return u.substr(0, u.find('_'));
  }
  std::optional<std::string> detector_name() const override {
    std::string u = *detector_unique_name();
    return u.substr(u.find('_') + 1);
  }
  std::optional<std::string> detector_serial() const override { return str("T_CCDSN"); }
  std::optional<double> focus_z() const override { return num("FOC-VAL"); }
};

class Decam : public Translator {
 public:
  using Translator::Translator;
  std::optional<std::string> instrument() const override { return opt_str("INSTRUME").value_or("DECam"); }
  std::optional<std::string> telescope() const override {
    return opt_str("TELESCOP").value_or("CTIO 4.0-m telescope");
  }
  std::optional<Location> location() const override {
    if (ok("OBS-LONG")) return geodetic(-num("OBS-LONG"), num("OBS-LAT"), num("OBS-ELEV"));
    return geodetic(-70.815, -30.16527778, 2215.0);  // CTIO
  }
  std::optional<TaiTime> datetime_end() const override {
    if (auto t = fits_date_key("DTUTC", "", "utc")) return t;
    return plus_s(*datetime_begin(), *exposure_time());
  }
  std::optional<double> exposure_time() const override { return num("EXPTIME"); }
  std::optional<double> dark_time() const override { return num("DARKTIME"); }
  std::optional<std::int64_t> exposure_id() const override { return integer("EXPNUM"); }
  std::optional<std::int64_t> observation_counter() const override { return exposure_id(); }
  std::optional<std::string> physical_filter() const override {
    if (ok("FILTER")) return strip(str("FILTER"));
    if (ok("CALIB_ID")) {
      std::smatch m;
      std::string calib = str("CALIB_ID");
      static const std::regex kRe(R"(.*filter=(\S+))");
      if (std::regex_search(calib, m, kRe)) return m[1].str();
      missing({"CALIB_ID"}, "CALIB_ID has no filter field");
    }
    return std::nullopt;
  }
  std::optional<std::string> observation_type() const override {
    if (!ok("OBSTYPE")) return "none";
    std::string t = lower(strip(str("OBSTYPE")));
    return t == "object" ? "science" : t;
  }
  std::optional<std::string> observation_id() const override { return str("OBSID"); }
  std::optional<std::string> science_program() const override { return str("PROPID"); }
  std::optional<std::string> object() const override { return str("OBJECT"); }
  std::optional<double> observing_day_offset() const override { return 12 * 3600.0; }
  std::optional<int> detector_num() const override { return static_cast<int>(integer("CCDNUM")); }
  std::optional<std::string> detector_unique_name() const override { return str("DETPOS"); }
  std::optional<std::string> detector_group() const override { return detector_unique_name()->substr(0, 1); }
  std::optional<std::string> detector_name() const override { return detector_unique_name()->substr(1); }
  std::optional<std::string> detector_serial() const override { return str("DETECTOR"); }
  std::optional<std::int64_t> detector_exposure_id() const override { return *exposure_id() * 100 + *detector_num(); }
  std::optional<double> boresight_airmass() const override {
    if (ok("AIRMASS")) return num("AIRMASS");
    if (obs_type_or_empty() == "science") missing({"AIRMASS"}, "no AIRMASS for a science observation");
    return std::nullopt;
  }
  std::optional<double> boresight_rotation_angle() const override { return 90.0; }
  std::optional<std::string> boresight_rotation_coord() const override { return "sky"; }
  std::optional<SkyPosition> tracking_radec() const override {
    return tracking_from({"RADESYS"}, {{"TELRA", "TELDEC"}}, true);
  }
  std::optional<AltAz> altaz_begin() const override { return altaz_from({{"ZD", "AZ"}}, true); }
  std::optional<double> temperature() const override { return bounded("OUTTEMP", 10.0, -10.0, 40.0); }
  std::optional<double> pressure() const override { return bounded("PRESSURE", 771.611, 700.0, 850.0) * 100.0; }
  std::optional<double> relative_humidity() const override { return bounded("HUMIDITY", 40.0, 0.0, 100.0); }
  std::optional<double> focus_z() const override {
    std::string focus = str("TELFOCUS");
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t p; (p = focus.find(',', start)) != std::string::npos; start = p + 1)
      parts.push_back(focus.substr(start, p - start));
    parts.push_back(focus.substr(start));
    if (parts.size() < 3) missing({"TELFOCUS"}, "TELFOCUS does not hold six values");
    return std::stod(parts[2]) / 1000.0;  // microns → mm
  }

 private:
  double bounded(std::string_view key, double def, double lo, double hi) const {
    if (!ok(key)) return def;
    double v = num(key);
    return (std::isnan(v) || v < lo || v > hi) ? def : v;
  }
};

class MegaPrime : public Translator {
 public:
  using Translator::Translator;
  std::optional<Location> location() const override {
    for (auto [lon, lat] : {std::pair{"LONGITUD", "LATITUDE"}, std::pair{"OBS-LONG", "OBS-LAT"}})
      if (ok(lon) && ok(lat)) return geodetic(num(lon), num(lat), 4215.0);
    return Location{-5464301.77135369, -2493489.8730419, 2151085.16950589};
  }
  std::optional<TaiTime> datetime_begin() const override {
    return fits_date(str("DATE-OBS").substr(0, 10) + "T" + str("UTC-OBS"), "utc");
  }
  std::optional<TaiTime> datetime_end() const override {
    if (ok("UTCEND")) return fits_date(str("DATE-OBS").substr(0, 10) + "T" + str("UTCEND"), "utc");
    return plus_s(*datetime_begin(), *exposure_time());
  }
  std::optional<double> exposure_time() const override { return num("EXPTIME"); }
  std::optional<double> exposure_time_requested() const override {
    return ok("EXPREQ") ? num("EXPREQ") : *exposure_time();
  }
  std::optional<double> dark_time() const override { return num("DARKTIME"); }
  std::optional<std::int64_t> exposure_id() const override { return integer("EXPNUM"); }
  std::optional<std::int64_t> visit_id() const override { return integer("EXPNUM"); }
  std::optional<std::int64_t> observation_counter() const override { return exposure_id(); }
  std::optional<std::string> physical_filter() const override { return str("FILTER"); }
  std::optional<std::string> observation_type() const override {
    std::string t = lower(strip(str("OBSTYPE")));
    return t == "object" ? "science" : t;
  }
  std::optional<std::string> observation_id() const override { return str("OBSID"); }
  std::optional<std::string> science_program() const override { return str("RUNID"); }
  std::optional<std::string> object() const override { return str("OBJECT"); }
  std::optional<double> observing_day_offset() const override { return 0.0; }
  std::optional<int> detector_num() const override { return std::stoi(detector_name()->substr(3)); }
  std::optional<std::string> detector_name() const override {
    static const std::regex kCcd(R"(^ccd\d+$)");
    if (ok("EXTNAME") && std::regex_match(str("EXTNAME"), kCcd)) return str("EXTNAME");
    return "ccd99";
  }
  std::optional<std::string> detector_group() const override { return std::nullopt; }
  std::optional<std::string> detector_serial() const override { return str("CCDNAME"); }
  std::optional<std::int64_t> detector_exposure_id() const override { return *exposure_id() * 36 + *detector_num(); }
  std::optional<double> boresight_airmass() const override {
    if (auto v = first_num({"AIRMASS", "BORE-AIRMASS"})) return v;
    missing({"AIRMASS", "BORE-AIRMASS"}, "no airmass keyword");
  }
  std::optional<double> boresight_rotation_angle() const override { return 0.0; }
  std::optional<std::string> boresight_rotation_coord() const override { return "sky"; }
  std::optional<SkyPosition> tracking_radec() const override {
    return tracking_from({"RADECSYS", "OBJRADEC", "RADESYS"}, {{"RA_DEG", "DEC_DEG"}, {"BORE-RA", "BORE-DEC"}});
  }
  std::optional<AltAz> altaz_begin() const override {
    return altaz_from({{"TELALT", "TELAZ"}, {"BORE-ALT", "BORE-AZ"}});
  }
  std::optional<double> temperature() const override {
    if (auto v = first_num({"TEMPERAT", "AIRTEMP"})) return v;
    missing({"TEMPERAT", "AIRTEMP"}, "no temperature keyword");
  }
  std::optional<double> pressure() const override {
    if (ok("PRESSURE")) return num("PRESSURE") * 100.0;
    if (ok("AIRPRESS")) return num("AIRPRESS");
    missing({"PRESSURE", "AIRPRESS"}, "no pressure keyword");
  }
  std::optional<double> relative_humidity() const override {
    if (auto v = first_num({"RELHUMID", "HUMIDITY"})) return v;
    missing({"RELHUMID", "HUMIDITY"}, "no humidity keyword");
  }
};

class Sdss : public Translator {
 public:
  using Translator::Translator;
  std::optional<std::string> instrument() const override { return "Imager on SDSS 2.5m"; }
  std::optional<std::string> telescope() const override { return "SDSS 2.5m"; }
  std::optional<Location> location() const override {
    return Location{-1463969.30185172, -5166673.34223433, 3434985.71204565};
  }
  std::optional<TaiTime> datetime_begin() const override {
    return fits_date(str("DATE-OBS").substr(0, 10) + "T" + str("TAIHMS"), "tai");
  }
  std::optional<TaiTime> datetime_end() const override { return plus_s(*datetime_begin(), *exposure_time()); }
  std::optional<double> exposure_time() const override { return num("EXPTIME"); }
  std::optional<double> dark_time() const override { return 0.0; }
  std::optional<std::int64_t> exposure_id() const override { return integer("RUN"); }
  std::optional<std::string> physical_filter() const override { return str("FILTER"); }
  std::optional<std::string> observation_type() const override {
    if (!ok("FLAVOR")) return "none";
    return lower(strip(str("FLAVOR")));
  }
  std::optional<std::string> observation_id() const override {
    return fmt::format("{} {} {} {}", str("RUN"), str("CAMCOL"), str("FILTER"), str("FRAME"));
  }
  std::optional<std::string> science_program() const override { return str("OBJECT"); }
  std::optional<std::string> object() const override { return str("OBJECT"); }
  std::optional<int> detector_num() const override {
    static const std::string kOrder = "gzuir";
    std::string name = *detector_unique_name();
    auto f = kOrder.find(name[0]);
    int camcol = std::stoi(name.substr(1));
    if (f == std::string::npos || camcol < 1 || camcol > 6) missing({"FILTER", "CAMCOL"}, "unknown SDSS detector " + name);
    return (camcol - 1) * 5 + static_cast<int>(f);
  }
  std::optional<std::string> detector_name() const override { return str("CCDLOC"); }
  std::optional<std::string> detector_unique_name() const override { return str("FILTER") + str("CAMCOL"); }
  std::optional<std::string> detector_group() const override { return str("CAMCOL"); }
  std::optional<std::string> detector_serial() const override { return "UNKNOWN"; }
  std::optional<std::int64_t> detector_exposure_id() const override {
    static const std::map<std::string, int> kFrameField = {{"r", 0}, {"i", 2}, {"u", 4}, {"z", 6}, {"g", 8}};
    static const std::map<std::string, int> kFilterId = {{"u", 0}, {"g", 1}, {"r", 2}, {"i", 3}, {"z", 4}};
    std::string f = str("FILTER");
    if (!kFilterId.contains(f)) missing({"FILTER"}, "unknown SDSS filter " + f);
    std::int64_t field = integer("FRAME") - kFrameField.at(f);
    return ((integer("RUN") * 10 + kFilterId.at(f)) * 10 + integer("CAMCOL")) * 10000 + field;
  }
  std::optional<double> boresight_airmass() const override {
    auto aa = altaz_begin();
    return aa ? std::optional(secz(*aa)) : std::nullopt;
  }
  std::optional<double> boresight_rotation_angle() const override { return 0.0; }
  std::optional<std::string> boresight_rotation_coord() const override { return "sky"; }
  std::optional<SkyPosition> tracking_radec() const override { return tracking_from({"RADECSYS"}, {{"RA", "DEC"}}); }
  std::optional<AltAz> altaz_begin() const override {
    if (!all_ok({"AZ", "ALT"})) {
      if (obs_type_or_empty() != "science") return std::nullopt;
      missing({"AZ", "ALT"}, "no AZ/ALT for a science observation");
    }
    return AltAz{wrap360(-num("AZ") + 180.0), num("ALT")};
  }
  std::optional<double> temperature() const override { return std::nullopt; }
  std::optional<double> pressure() const override { return std::nullopt; }
  std::optional<double> relative_humidity() const override { return std::nullopt; }
};

class VisitInfo : public Translator {
 public:
  using Translator::Translator;
  std::optional<std::string> instrument() const override { return str("INSTRUMENT"); }
  std::optional<std::string> telescope() const override { return opt_str("TELESCOP").value_or("Unknown"); }
  std::optional<Location> location() const override {
    return geodetic(num("OBS-LONG"), num("OBS-LAT"), num("OBS-ELEV"));
  }
  std::optional<TaiTime> datetime_begin() const override {
    auto avg = fits_date_key("DATE-AVG", "", "tai");
    if (!avg) return std::nullopt;
    return plus_s(*avg, -*exposure_time() / 2.0);
  }
  std::optional<TaiTime> datetime_end() const override {
    auto begin = datetime_begin();
    return begin ? std::optional(plus_s(*begin, *exposure_time())) : std::nullopt;
  }
  std::optional<double> exposure_time() const override { return num("EXPTIME"); }
  std::optional<double> dark_time() const override { return num("DARKTIME"); }
  std::optional<std::int64_t> exposure_id() const override { return integer("IDNUM"); }
  std::optional<std::int64_t> visit_id() const override {
    if (ok("LSST BUTLER DATAID VISIT")) return integer("LSST BUTLER DATAID VISIT");
    return exposure_id();
  }
  std::optional<std::int64_t> observation_counter() const override { return exposure_id(); }
  std::optional<std::string> physical_filter() const override { return std::nullopt; }
  std::optional<std::string> observation_type() const override { return str("OBSTYPE"); }
  std::optional<std::string> observation_reason() const override { return str("REASON"); }
  std::optional<std::string> observation_id() const override { return str("IDNUM"); }
  std::optional<std::string> science_program() const override { return str("PROGRAM"); }
  std::optional<std::string> object() const override { return str("OBJECT"); }
  std::optional<int> detector_num() const override {
    return static_cast<int>(integer("LSST BUTLER DATAID DETECTOR"));
  }
  std::optional<std::string> detector_name() const override { return std::nullopt; }
  std::optional<std::string> detector_unique_name() const override { return std::nullopt; }
  std::optional<std::string> detector_group() const override { return std::nullopt; }
  std::optional<std::string> detector_serial() const override { return std::nullopt; }
  std::optional<std::int64_t> detector_exposure_id() const override { return std::nullopt; }
  std::optional<double> boresight_airmass() const override { return num("BORE-AIRMASS"); }
  std::optional<double> boresight_rotation_angle() const override { return num("BORE-ROTANG"); }
  std::optional<std::string> boresight_rotation_coord() const override {
    return ok("ROTTYPE") ? lower(str("ROTTYPE")) : "unknown";
  }
  std::optional<SkyPosition> tracking_radec() const override { return tracking_from({}, {{"BORE-RA", "BORE-DEC"}}); }
  std::optional<AltAz> altaz_begin() const override { return altaz_from({{"BORE-ALT", "BORE-AZ"}}); }
  std::optional<double> temperature() const override { return num("AIRTEMP"); }
  std::optional<double> pressure() const override { return num("AIRPRESS"); }
  std::optional<double> relative_humidity() const override { return num("HUMIDITY"); }
  std::optional<bool> has_simulated_content() const override { return truthy("HAS-SIMULATED-CONTENT"); }
  std::optional<double> focus_z() const override { return num("FOCUSZ"); }
};

bool starts_with_key(const image::Header& h, std::string_view prefix) {
  for (auto k : {"EXP-ID", "FRAMEID"})
    if (auto v = header_str(h, k); v && v->starts_with(prefix)) return true;
  return false;
}


}  // namespace

std::vector<Registration> other_translators() {
  return {
      {"HSC",
       [](const image::Header& h) {
         if (h.contains("INSTRUME")) return header_str(h, "INSTRUME") == "Hyper Suprime-Cam";
         return starts_with_key(h, "HSC");
       },
       maker<Hsc>(), nullptr, "HSC"},
      {"SuprimeCam",
       [](const image::Header& h) {
         if (h.contains("INSTRUME")) return header_str(h, "INSTRUME") == "SuprimeCam";
         return starts_with_key(h, "SUP");
       },
       maker<SuprimeCam>(), nullptr, "SuprimeCam"},
      {"MegaPrime", [](const image::Header& h) { return header_str(h, "INSTRUME") == "MegaPrime"; },
       maker<MegaPrime>(), nullptr, "CFHT"},
      {"DECam",
       [](const image::Header& h) {
         if (header_str(h, "INSTRUME") == "DECam") return true;
         auto f = header_str(h, "FILTER");
         return f && f->find("DECam") != std::string::npos;
       },
       maker<Decam>(),
       [](image::Header& h) {
         std::string t = lower(header_str(h, "OBSTYPE").value_or("unknown"));
         if (t.find("bias") == std::string::npos && t.find("zero") == std::string::npos) return false;
         h.set("FILTER", "solid plate 0.0 0.0");
         return true;
       },
       "DECam"},
      {"SDSS",
       [](const image::Header& h) {
         auto origin = header_str(h, "ORIGIN"), mode = header_str(h, "CCDMODE"), tel = header_str(h, "TELESCOP");
         return origin && mode && tel && tel->find("2.5m") != std::string::npos &&
                origin->find("SDSS") != std::string::npos && mode->find("DRIFT") != std::string::npos;
       },
       maker<Sdss>(), nullptr, "SDSS"},
      {"VisitInfo", [](const image::Header&) { return false; }, maker<VisitInfo>(), nullptr, "", false},
  };
}

}  // namespace majordome::instrument::detail
