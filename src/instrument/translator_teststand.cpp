// Translators for the Rubin laboratory test stands: LSST-TS3 (BNL single-sensor stand),
// LSST-TS8 (BNL raft stand) and LSST-UCDCam (UC Davis single-sensor stand). The rules
// follow obs_lsst's LsstTS3Translator, LsstTS8Translator and LsstUCDCamTranslator (facts:
// keyword names, dates, numbering), written anew. A test stand sees no sky and stands on
// no telescope; its detectors are looked up by CCD serial in data/instruments/serials/.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "majordome/core/error.hpp"
#include "majordome/instrument/camera.hpp"
#include "translator_lsst.hpp"

namespace majordome::instrument::detail {
namespace {

constexpr double kEightHours = 8 * 3600.0;

// The CCDs a test stand ever held: serial → (group, name, id), and the first detector id of
// each group, from data/instruments/serials/<instrument>.yaml (docs/formats/serials.md).
struct StandDetector {
  std::string serial, group, name;
  int id = 0;
};

class SerialTable {
 public:
  explicit SerialTable(const std::string& instrument) {
    path_ = data_dir() / "instruments" / "serials" / (instrument + ".yaml");
    auto fail = [this](const std::string& why) {
      throw InvalidConfigError(fmt::format("detector table {}: {}", path_.string(), why));
    };
    YAML::Node doc;
    try {
      doc = YAML::LoadFile(path_.string());
    } catch (const YAML::BadFile&) {
      fail("cannot be read; reinstall majordome or set MAJORDOME_DATA_DIR to the directory holding "
           "instruments/serials/");
    } catch (const YAML::Exception& e) {
      fail(fmt::format("not valid YAML: {}", e.what()));
    }
    try {
      if (!doc["format_version"] || doc["format_version"].as<int>() != 1)
        fail("format_version must be 1 (docs/formats/serials.md)");
      if (!doc["instrument"] || doc["instrument"].as<std::string>() != instrument)
        fail(fmt::format("instrument must be {}", instrument));
      for (const auto& row : doc["detectors"]) {
        StandDetector d{row["serial"].as<std::string>(), row["group"].as<std::string>(),
                        row["name"].as<std::string>(), row["id"].as<int>()};
        if (by_serial_.contains(d.serial)) fail(fmt::format("serial {} is listed twice", d.serial));
        if (!by_name_.emplace(d.group + "_" + d.name, d).second)
          fail(fmt::format("detector {}_{} is listed twice", d.group, d.name));
        by_serial_.emplace(d.serial, std::move(d));
      }
      for (const auto& raft : doc["rafts"]) first_id_[raft.first.as<std::string>()] = raft.second.as<int>();
    } catch (const YAML::Exception& e) {
      fail(fmt::format("malformed entry: {}", e.what()));
    }
  }

  const StandDetector* by_serial(const std::string& serial) const {
    auto it = by_serial_.find(serial);
    return it == by_serial_.end() ? nullptr : &it->second;
  }
  // The detector id of a slot: its row, else its raft's first id plus the slot index.
  std::optional<int> id_of(const std::string& group, const std::string& name) const {
    if (auto it = by_name_.find(group + "_" + name); it != by_name_.end()) return it->second.id;
    auto raft = first_id_.find(group);
    if (raft == first_id_.end()) return std::nullopt;
    for (std::size_t i = 0; i < kScienceSensors.size(); ++i)
      if (kScienceSensors[i] == name) return raft->second + static_cast<int>(i);
    return std::nullopt;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::map<std::string, StandDetector> by_serial_, by_name_;
  std::map<std::string, int> first_id_;  // group → id of its S00
};

// Tables are read once per process (ingest translates from several threads).
const SerialTable& serial_table(const std::string& instrument) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<SerialTable>> tables;
  std::lock_guard lock(mutex);
  auto& table = tables[instrument];
  if (!table) table = std::make_unique<SerialTable>(instrument);
  return *table;
}

// What every test stand shares: no telescope, no site, no sky, no weather.
class TestStand : public LsstBase {
 public:
  using LsstBase::LsstBase;
  std::optional<std::string> telescope() const override { return std::nullopt; }
  std::optional<std::string> object() const override { return "UNKNOWN"; }
  std::optional<double> boresight_airmass() const override { return std::nullopt; }
  std::optional<double> boresight_rotation_angle() const override { return std::nullopt; }
  std::optional<std::string> boresight_rotation_coord() const override { return std::nullopt; }
  std::optional<SkyPosition> tracking_radec() const override { return std::nullopt; }
  std::optional<AltAz> altaz_begin() const override { return std::nullopt; }
  std::optional<double> temperature() const override { return std::nullopt; }
  std::optional<double> pressure() const override { return std::nullopt; }
  std::optional<double> relative_humidity() const override { return std::nullopt; }
  std::optional<bool> can_see_sky() const override { return false; }

 protected:
  bool on_mountain() const override { return false; }
  double day_offset(TaiTime) const override { return kEightHours; }

  const SerialTable& table() const { return serial_table(camera_); }
  const StandDetector& detector_by_serial() const {
    auto serial = detector_serial();
    if (const auto* d = table().by_serial(*serial)) return *d;
    missing({"LSST_NUM"}, fmt::format("CCD serial {} is not in the {} detector table {}: add its row",
                                      *serial, camera_, table().path().string()));
  }
  // The number of detector group_name (RAFTNAME/RAFTBAY + slot), from the table.
  int detector_num_from_table(std::vector<std::string> keys) const {
    const auto group = *detector_group(), name = *detector_name();
    if (auto id = table().id_of(group, name)) return *id;
    missing(std::move(keys), fmt::format("no {} detector {}_{} in {}: add its raft", camera_, group, name,
                                         table().path().string()));
  }
  // FILENAME without its extension: the observation id before OBSID existed.
  std::string file_stem() const {
    std::string file = str("FILENAME");
    return file.substr(0, file.rfind('.'));
  }
  // Digits of an ISO date down to tenths of a second: the exposure id of the older stands,
  // whose sequence numbers repeat within a day.
  static std::int64_t exposure_id_from_date(std::string iso) {
    iso = iso.substr(0, 21);
    std::erase_if(iso, [](char c) { return c < '0' || c > '9'; });
    if (iso.empty()) throw InvalidArgumentError("no digits in the observation date");
    return std::stoll(iso);
  }
  // Exposure id followed by the three digits of the detector number.
  std::optional<std::int64_t> concatenated_detector_exposure_id() const {
    auto id = exposure_id();
    auto num = detector_num();
    if (!id || !num) return std::nullopt;
    if (*num < 0 || *num > 999) missing({"LSST_NUM"}, fmt::format("detector {} exceeds 999", *num));
    return *id * 1000 + *num;
  }
  // The observation's begin date on the UTC scale, YYYY-MM-DD.
  std::string utc_date() const { return datetime_begin()->utc_iso(0).substr(0, 10); }
};

// BNL test stand 3: one sensor at a time, named S00 in a pseudo-raft R<nnn> found from
// its serial; exposure ids are the observation date's digits.
class Ts3 : public TestStand {
 public:
  explicit Ts3(const image::Header& h) : TestStand(h, "LSST-TS3") {}
  std::optional<TaiTime> datetime_begin() const override {
    if (auto t = fits_date_key("", "MJD-OBS", "utc")) return t;
    missing({"MJD-OBS"}, "no MJD-OBS keyword");
  }
  std::optional<std::int64_t> exposure_id() const override { return exposure_id_from_date(str("DATE-OBS")); }
  std::optional<std::int64_t> visit_id() const override { return exposure_id(); }
  std::optional<std::string> physical_filter() const override { return str("FILTER"); }
  std::optional<std::string> science_program() const override { return utc_date(); }
  std::optional<std::string> observation_id() const override { return file_stem(); }
  std::optional<std::string> detector_name() const override { return "S00"; }
  std::optional<std::string> detector_group() const override { return detector_by_serial().group; }
  std::optional<int> detector_num() const override { return detector_by_serial().id; }
  std::optional<std::int64_t> detector_exposure_id() const override {
    return concatenated_detector_exposure_id();
  }
};

// obs_lsst keeps the DATE-OBS that the TS8 fix-up replaced under this keyword.
constexpr const char* kTs8OriginalDateObs = "LSST-TS8 DATE-OBS";
// Observations after this are numbered like LSSTCam (the first is TS_C_20230524_000906).
TaiTime ts8_sequence_ids_from() {
  static const TaiTime t = TaiTime::from_tai_iso("2023-05-24T23:00:00");
  return t;
}

// BNL test stand 8: a whole raft (RTM-nnn from RAFTNAME); the slot of a CCD comes from its
// serial. Older data predate OBSID/DAYOBS and carry a filter-wheel position.
class Ts8 : public TestStand {
 public:
  explicit Ts8(const image::Header& h) : TestStand(h, "LSST-TS8") {}
  std::optional<std::int64_t> exposure_id() const override {
    if (*datetime_begin() > ts8_sequence_ids_from() && observation_id()->starts_with("TS_C_"))
      return LsstBase::exposure_id();
    return exposure_id_from_date(ok(kTs8OriginalDateObs) ? str(kTs8OriginalDateObs) : str("DATE-OBS"));
  }
  std::optional<std::int64_t> visit_id() const override { return exposure_id(); }
  std::optional<std::string> physical_filter() const override {
    if (!ok("FILTPOS")) {
      std::string filter = *LsstBase::physical_filter();  // DM-38882 keywords, from 2023-05-09
      return filter.find("unspecified") != std::string::npos ? "unknown" : filter;
    }
    static const std::map<std::int64_t, std::string> kWheel = {{2, "g"}, {3, "r"}, {4, "i"}, {5, "z"}, {6, "y"}};
    auto it = kWheel.find(integer("FILTPOS"));
    return it == kWheel.end() ? "unknown" : it->second;
  }
  std::optional<std::string> science_program() const override { return str("RUNNUM"); }
  std::optional<std::string> observation_id() const override {
    return ok("OBSID") ? str("OBSID") : file_stem();
  }
  std::optional<std::string> detector_serial() const override {
    std::string serial = str("LSST_NUM");
    if (serial.ends_with("-Dev")) serial.resize(serial.size() - 4);
    return serial;
  }
  std::optional<std::string> detector_group() const override {
    static const std::regex kRaft(R"(RTM-\d\d\d)");
    std::string raft = str("RAFTNAME");
    std::smatch m;
    if (!std::regex_search(raft, m, kRaft))
      missing({"RAFTNAME"}, fmt::format("RAFTNAME '{}' names no raft RTM-nnn", raft));
    return m.str();
  }
  std::optional<std::string> detector_name() const override { return detector_by_serial().name; }
  std::optional<int> detector_num() const override { return detector_num_from_table({"RAFTNAME", "LSST_NUM"}); }
  std::optional<std::int64_t> detector_exposure_id() const override {
    return concatenated_detector_exposure_id();
  }
};

// UC Davis single-sensor stand (E2V and ITL): LSSTCam-style keywords; no day-obs offset.
class UcdCam : public TestStand {
 public:
  explicit UcdCam(const image::Header& h) : TestStand(h, "LSST-UCDCam") {}
  std::optional<int> detector_num() const override { return detector_num_from_table({"RAFTBAY", "CCDSLOT"}); }

 protected:
  double day_offset(TaiTime) const override { return 0.0; }
};

// obs_lsst's TS8 fix-up: until the stand's clock was fixed, DATE-OBS (equal to the trigger
// time DATE-TRG) marked the END of the exposure. Keep it as DATE-END (and the original under
// kTs8OriginalDateObs, which the historical exposure ids use) and move the begin back by EXPTIME.
bool fix_ts8(image::Header& h) {
  auto date_obs = header_str(h, "DATE-OBS");
  if (!date_obs || date_obs != header_str(h, "DATE-TRG")) return false;
  const bool tai = lower(header_str(h, "TIMESYS").value_or("utc")) == "tai";
  std::optional<TaiTime> end;
  if (auto mjd = header_num(h, "MJD-OBS")) {
    double d1 = 2400000.5, d2 = *mjd;
    if (!tai) eraUtctai(2400000.5, *mjd, &d1, &d2);
    end = TaiTime::from_mjd_tai(d1 - 2400000.5 + d2);
  } else {
    end = tai ? TaiTime::parse_tai_iso(*date_obs) : TaiTime::parse_utc_iso(*date_obs);
  }
  auto exptime = header_num(h, "EXPTIME");
  if (!end || !exptime) return false;
  if (!h.contains("DATE-END")) {
    h.set("DATE-END", *date_obs);
    h.set("MJD-END", h.find("MJD-OBS").value_or(std::monostate{}));
  }
  h.set(kTs8OriginalDateObs, *date_obs);
  TaiTime begin(end->ns() - std::llround(*exptime * 1e9));
  double mjd = begin.mjd_tai();
  if (!tai) {
    double u1 = 0, u2 = 0;
    eraTaiutc(2400000.5, mjd, &u1, &u2);
    mjd = u1 - 2400000.5 + u2;
  }
  std::string iso = tai ? begin.tai_iso(3, 'T') : begin.utc_iso(3, 'T');
  h.set("MJD-OBS", mjd);
  h.set("DATE-OBS", iso);
  h.set("MJD-BEG", mjd);
  h.set("DATE-BEG", iso);
  return true;
}

// TS8 raft controllers of the data taken before the TSTAND keyword existed.
bool ts8_controller(const std::string& contnum) {
  static const std::set<std::string> kControllers = {
      "000018910e0c", "000018ee33b7", "000018ee0f35", "000018ee3b40", "00001891fcc7", "000018edfd65",
      "0000123b5ba8", "000018911b05", "00001891fa3e", "000018910d7f", "000018ed9f12", "000018edf4a7",
      "000018ee34e6", "000018ef1464", "000018eda120", "000018edf8a2", "000018ef3819", "000018ed9486",
      "000018ee02c8", "000018edfb24", "000018ee34c0", "000018edfb51", "0000123b51d1", "0000123b5862",
      "0000123b8ca9", "0000189208fa", "0000189111af", "0000189126e1", "000018ee0618", "000018ee3b78",
      "000018ef1534"};
  return kControllers.contains(contnum);
}


}  // namespace

std::vector<Registration> teststand_translators() {
  return {
      {"LSST-TS3", [](const image::Header& h) { return header_str(h, "TSTAND") == "BNL-TS3-2-Janeway"; },
       maker<Ts3>(), nullptr, "LSST-TS3"},
      {"LSST-TS8",
       [](const image::Header& h) {
         if (header_str(h, "TSTAND") == "TS8") return true;
         auto contnum = header_str(h, "CONTNUM");
         return h.contains("LSST_NUM") && h.contains("REBNAME") && contnum && ts8_controller(*contnum);
       },
       maker<Ts8>(), fix_ts8, "LSST-TS8"},
      {"LSST-UCDCam",
       [](const image::Header& h) {
         auto v = header_str(h, "INSTRUME");
         return v && (lower(*v) == "lsst-ucdcam" || lower(*v) == "lsst-ucdcam-itl");
       },
       maker<UcdCam>(), nullptr, "LSST-UCDCam"},
  };
}

}  // namespace majordome::instrument::detail
