// Header translation tests that need no shared data: exposure ids, detector numbers,
// synthetic headers of each major instrument, fix-ups and error paths.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "majordome/core/error.hpp"
#include "majordome/instrument/header_source.hpp"
#include "majordome/instrument/translator.hpp"

namespace mi = majordome::instrument;
using majordome::image::Header;
namespace fs = std::filesystem;

TEST(LsstExposureId, FollowsTheRubinRuleIncludingControllerPhaseOut) {
  EXPECT_EQ(mi::lsst_exposure_id("20240318", 43), 2024031800043);
  EXPECT_EQ(mi::lsst_exposure_id("2024-03-18", 42, 'O'), 2024031800042);
  EXPECT_EQ(mi::lsst_exposure_id("20240318", 1, 'H'), 4024031800001);
  EXPECT_EQ(mi::lsst_exposure_id("20231004", 1, 'C'), 3023100400001);
  EXPECT_EQ(mi::lsst_exposure_id("2025-04-17", 101, 'P'), 5025041700101);
  EXPECT_EQ(mi::lsst_exposure_id("20250417", 42, 'Q'), 6025041700042);
  EXPECT_EQ(mi::lsst_exposure_id("20250417", 42, 'S'), 7025041700042);
  EXPECT_EQ(mi::lsst_exposure_id("20250418", 43), 2025041800043);
  EXPECT_EQ(mi::lsst_exposure_id("2023-10-05", 1, 'C'), 2023100500001);
  EXPECT_EQ(mi::lsst_exposure_id("2025-04-18", 101, 'P'), 2025041800101);
  EXPECT_EQ(mi::lsst_exposure_id("20250418", 42, 'Q'), 2025041800042);
  EXPECT_EQ(mi::lsst_exposure_id("20250418", 42, 'S'), 2025041800042);
  EXPECT_EQ(mi::lsst_exposure_id("2025-04-18T12:00:00", 7), 2025041800007);
  EXPECT_THROW(mi::lsst_exposure_id("2025041", 1), majordome::InvalidArgumentError);
  EXPECT_THROW(mi::lsst_exposure_id("20250418", 100000), majordome::InvalidArgumentError);
  EXPECT_THROW(mi::lsst_exposure_id("20250101", 1, 'X'), majordome::InvalidArgumentError);
}

TEST(LsstDetectorExposureId, PacksDayObsSeqNumControllerAndDetector) {
  EXPECT_EQ(mi::lsst_detector_exposure_id(3019052600223, 1), 166228713217);  // ComCam 2019 lab
  EXPECT_EQ(mi::lsst_detector_exposure_id(3018092000065, 0), 164148297984);  // LATISS 2018
  EXPECT_EQ(mi::lsst_detector_exposure_id(2025112100156, 203), 48679132363);  // R44_SW0
  EXPECT_THROW(mi::lsst_detector_exposure_id(2025112100156, 256), majordome::InvalidArgumentError);
}

TEST(LsstDetectorNumber, FollowsObsLsstNumbering) {
  EXPECT_EQ(mi::lsst_detector_number("LSSTCam", "R01", "S00"), 0);
  EXPECT_EQ(mi::lsst_detector_number("LSSTCam", "R10", "S02"), 29);
  EXPECT_EQ(mi::lsst_detector_number("LSSTCam", "R22", "S21"), 97);
  EXPECT_EQ(mi::lsst_detector_number("LSSTCam", "R43", "S22"), 188);
  EXPECT_EQ(mi::lsst_detector_number("LSSTCam", "R00", "SG0"), 189);
  EXPECT_EQ(mi::lsst_detector_number("LSSTCam", "R44", "SW0"), 203);
  EXPECT_EQ(mi::lsst_detector_number("LSSTCam", "R44", "SW1"), 204);
  EXPECT_EQ(mi::lsst_detector_number("LSSTComCam", "R22", "S22"), 8);
  EXPECT_EQ(mi::lsst_detector_number("LATISS", "RXX", "S00"), 0);
  EXPECT_EQ(mi::lsst_detector_number("LSSTComCam", "R21", "S00"), std::nullopt);
  EXPECT_EQ(mi::lsst_detector_number("LSSTCam", "R00", "S00"), std::nullopt);
}

namespace {

mi::TranslateOptions options_with_source(const std::string& source) {
  mi::TranslateOptions o;
  o.source = source;
  return o;
}
mi::TranslateOptions pedantic() {
  mi::TranslateOptions o;
  o.mode = mi::TranslationMode::kPedantic;
  return o;
}
mi::TranslateOptions forced(const std::string& name) {
  mi::TranslateOptions o;
  o.translator = name;
  return o;
}

// A ComCam-style on-sky primary header as the simulator or the summit writes it.
Header lsst_header(const std::string& instrume) {
  Header h;
  h.set("INSTRUME", instrume);
  h.set("TELESCOP", "Simonyi Survey Telescope");
  h.set("TIMESYS", "TAI");
  h.set("OBSID", "CC_O_20241120_000012");
  h.set("DAYOBS", "20241120");
  h.set("SEQNUM", 12);
  h.set("CONTRLLR", "O");
  h.set("GROUPID", "2024-11-21T02:00:00.000");
  h.set("DATE-BEG", "2024-11-21T02:00:10.000");
  h.set("MJD-BEG", 60635.08344907407);
  h.set("DATE-END", "2024-11-21T02:00:40.000");
  h.set("EXPTIME", 30.0);
  h.set("DARKTIME", 30.5);
  h.set("SHUTTIME", 30.0);
  h.set("FILTER", "r_03");
  h.set("IMGTYPE", "OBJECT");
  h.set("REASON", "survey");
  h.set("PROGRAM", "BLOCK-1");
  h.set("OBJECT", "field_1");
  h.set("RADESYS", "ICRS");
  h.set("TRACKSYS", "RADEC");
  h.set("RASTART", 53.1);
  h.set("DECSTART", -28.1);
  h.set("ROTPA", 12.5);
  h.set("ROTCOORD", "sky");
  h.set("AZSTART", 120.0);
  h.set("ELSTART", 60.0);
  h.set("AMSTART", 1.1547);
  h.set("RAFTBAY", "R22");
  h.set("CCDSLOT", "S11");
  h.set("LSST_NUM", "ITL-3800C-283");
  h.set("AIRTEMP", 10.5);
  h.set("PRESSURE", 744.0);
  h.set("HUMIDITY", 20.0);
  return h;
}

}  // namespace

TEST(TranslateSynthetic, LsstComCamOnSkyHeader) {
  auto info = mi::translate(lsst_header("ComCam"), options_with_source("synthetic"));
  EXPECT_EQ(info.translator, "LSSTComCam");
  EXPECT_EQ(info.instrument, "LSSTComCam");
  EXPECT_EQ(info.exposure_id, 2024112000012);
  EXPECT_EQ(info.detector_num, 4);
  EXPECT_EQ(info.detector_exposure_id, mi::lsst_detector_exposure_id(2024112000012, 4));
  EXPECT_EQ(info.observation_type, "science");
  EXPECT_EQ(info.observation_reason, "survey");
  EXPECT_EQ(info.observing_day, 20241120);
  EXPECT_EQ(info.physical_filter, "r_03");
  EXPECT_EQ(info.exposure_group, "2024-11-21T02:00:00.000");
  EXPECT_EQ(info.can_see_sky, std::nullopt);  // not simulated, no VIGN_MIN: unknown
  EXPECT_DOUBLE_EQ(*info.pressure_Pa, 74400.0);
  ASSERT_TRUE(info.tracking_radec);
  EXPECT_DOUBLE_EQ(info.tracking_radec->ra_deg, 53.1);
  auto rec = mi::exposure_record(info, "synthetic");
  EXPECT_EQ(rec.day_obs, 20241120);
  EXPECT_EQ(rec.seq_num, 12);
  EXPECT_DOUBLE_EQ(*rec.zenith_angle_deg, 30.0);
  EXPECT_NEAR(static_cast<double>(rec.timespan.end_ns() - rec.timespan.begin_ns()), 30e9, 1e6);
}

TEST(TranslateSynthetic, TestCamUsesTheDetectorKeyword) {
  Header h = lsst_header("TestCam");
  h.set("DETECTOR", 3);
  auto info = mi::translate(h);
  EXPECT_EQ(info.translator, "TestCam");
  EXPECT_EQ(info.instrument, "TestCam");
  EXPECT_EQ(info.detector_num, 3);
  EXPECT_EQ(info.has_simulated_content, true);
  EXPECT_EQ(info.can_see_sky, true);
  EXPECT_EQ(mi::exposure_record(info).detector, 3);
}

TEST(TranslateSynthetic, LsstCamAndLatiss) {
  Header cam = lsst_header("LSSTCam");
  cam.set("DAYOBS", "20250601");
  cam.set("DATE-BEG", "2025-06-02T02:00:10.000");
  cam.set("MJD-BEG", 60828.08344907407);
  cam.set("RAFTBAY", "R44");
  cam.set("CCDSLOT", "SW0");
  cam.set("VIGN_MIN", "NO");
  auto info = mi::translate(cam);
  EXPECT_EQ(info.translator, "LSSTCam");
  EXPECT_EQ(info.detector_num, 203);
  EXPECT_EQ(info.can_see_sky, true);
  EXPECT_EQ(info.observing_day_offset_s, 43200.0);

  Header at = lsst_header("LATISS");
  at.set("TELESCOP", "LSST AuxTelescope");
  at.erase("RAFTBAY");
  at.erase("CCDSLOT");
  at.set("GRATING", "empty_1");
  auto latiss = mi::translate(at);
  EXPECT_EQ(latiss.translator, "LSST_LATISS");
  EXPECT_EQ(latiss.detector_num, 0);
  EXPECT_EQ(latiss.physical_filter, "r_03~empty");
  EXPECT_EQ(latiss.detector_serial, "ITL-3800C-068");  // built-in fix-up after 2019-06-24
  EXPECT_EQ(latiss.telescope, "Rubin Auxiliary Telescope");
}

TEST(TranslateSynthetic, HscDecamMegaPrime) {
  Header hsc;
  hsc.set("INSTRUME", "Hyper Suprime-Cam");
  hsc.set("TELESCOP", "Subaru");
  hsc.set("EXP-ID", "HSCA90402400");
  hsc.set("DATE-OBS", "2013-11-02");
  hsc.set("UT-STR", "06:15:55.908");
  hsc.set("UT-END", "06:16:27.928");
  hsc.set("EXPTIME", 30.0);
  hsc.set("DATA-TYP", "OBJECT");
  hsc.set("DET-ID", 50);
  hsc.set("FILTER01", "HSC-I");
  auto info = mi::translate(hsc);
  EXPECT_EQ(info.translator, "HSC");
  EXPECT_EQ(info.exposure_id, 904024);
  EXPECT_EQ(info.detector_exposure_id, 180804850);
  EXPECT_EQ(info.detector_unique_name, "1_12");
  EXPECT_EQ(info.physical_filter, "HSC-I");
  EXPECT_EQ(info.observing_day, 20131102);
  EXPECT_TRUE(info.failures.contains("tracking_radec"));  // lenient: missing RA2000/DEC2000
  EXPECT_THROW(mi::translate(hsc, pedantic()), majordome::NotFoundError);

  Header decam;
  decam.set("INSTRUME", "DECam");
  decam.set("EXPNUM", 229388);
  decam.set("CCDNUM", 25);
  decam.set("DETPOS", "S1");
  decam.set("OBSTYPE", "zero");
  decam.set("FILTER", "z DECam SDSS c0004 9260.0 1520.0");
  decam.set("DATE-OBS", "2013-09-01T06:02:55.753848");
  decam.set("EXPTIME", 0.0);
  auto d = mi::translate(decam);
  EXPECT_EQ(d.translator, "DECam");
  EXPECT_EQ(d.detector_exposure_id, 22938825);
  EXPECT_EQ(d.detector_group, "S");
  EXPECT_EQ(d.physical_filter, "solid plate 0.0 0.0");  // built-in bias fix-up
  EXPECT_EQ(d.observing_day, 20130831);

  Header mega;
  mega.set("INSTRUME", "MegaPrime");
  mega.set("EXPNUM", 1038843);
  mega.set("EXTNAME", "ccd02");
  mega.set("DATE-OBS", "2008-11-01");
  mega.set("UTC-OBS", "14:33:32.40");
  mega.set("EXPTIME", 615.037);
  mega.set("OBSTYPE", "OBJECT");
  auto m = mi::translate(mega);
  EXPECT_EQ(m.detector_exposure_id, 37398350);
  EXPECT_EQ(m.detector_num, 2);
}

TEST(TranslateErrors, UnknownInstrumentNamesTheFileAndKeys) {
  Header h;
  h.set("INSTRUME", "MysteryCam");
  h.set("TELESCOP", "Backyard 8in");
  try {
    mi::translate(h, options_with_source("raw/x.fits"));
    FAIL() << "expected NotFoundError";
  } catch (const majordome::NotFoundError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("raw/x.fits"), std::string::npos) << msg;
    EXPECT_NE(msg.find("INSTRUME='MysteryCam'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("TELESCOP='Backyard 8in'"), std::string::npos) << msg;
  }
  EXPECT_EQ(mi::find_translator(h), std::nullopt);
  EXPECT_THROW(mi::translate(h, forced("NoSuchTranslator")), majordome::NotFoundError);
}

TEST(TranslateErrors, MissingRequiredKeyIsNamedInTheExposureRecordError) {
  Header h = lsst_header("ComCam");
  h.erase("SEQNUM");
  auto info = mi::translate(h);
  EXPECT_FALSE(info.exposure_id);
  try {
    mi::exposure_record(info, "raw/y.fits");
    FAIL() << "expected NotFoundError";
  } catch (const majordome::NotFoundError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("raw/y.fits"), std::string::npos) << msg;
    EXPECT_NE(msg.find("required properties missing"), std::string::npos) << msg;
    EXPECT_NE(msg.find("SEQNUM"), std::string::npos) << msg;
  }
  EXPECT_THROW(mi::translate(h, pedantic()), majordome::NotFoundError);
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mj_translate_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  fs::path dir_;
};

using HeaderSource = TempDir;

TEST_F(HeaderSource, ReadsTheThreeDumpEncodings) {
  auto plain = mi::read_header_file(write("a.yaml", "INSTRUME: ComCam\nSEQNUM: 12\nDAYOBS: '20241120'\n"
                                                    "EXPTIME: 30.0\nFLAG: true\nNOTHING: null\n"
                                                    "COMMENT: [one, two]\n"));
  EXPECT_EQ(plain.find_string("INSTRUME"), "ComCam");
  EXPECT_EQ(plain.find_int("SEQNUM"), 12);
  EXPECT_EQ(plain.find_string("DAYOBS"), "20241120");
  EXPECT_EQ(plain.find_bool("FLAG"), true);
  EXPECT_TRUE(plain.contains("NOTHING"));
  EXPECT_EQ(plain.find_string("NOTHING"), std::nullopt);
  int comments = 0;
  for (const auto& c : plain) comments += c.keyword == "COMMENT";
  EXPECT_EQ(comments, 2);

  auto pl = mi::read_header_file(write("b.yaml", "!<lsst.daf.base.PropertyList>\n"
                                                 "- [SEQNUM, Int, 7, seq]\n- [NAME, String, '007', c]\n"
                                                 "- [X, Double, 1.5, '']\n"));
  EXPECT_EQ(pl.find_int("SEQNUM"), 7);
  EXPECT_EQ(pl.find_string("NAME"), "007");
  EXPECT_EQ(pl.find_double("X"), 1.5);

  auto js = mi::read_header_file(write("c.json", R"({"__CONTENT__": "metadata", "B": 2, "A": "x", "H": [1, 2]})"));
  EXPECT_EQ(js.cards().front().keyword, "B");  // order kept
  EXPECT_EQ(js.find_string("A"), "x");
  EXPECT_THROW(mi::read_header_file(write("d.json", R"({"__CONTENT__": "translated", "A": 1})")),
               majordome::CorruptFileError);
}

TEST_F(HeaderSource, MalformedInputGivesClearErrors) {
  EXPECT_THROW(mi::read_header_file(dir_ / "missing.yaml"), majordome::NotFoundError);
  EXPECT_THROW(mi::read_header_file(write("bad.yaml", "A: [unclosed\n")), majordome::CorruptFileError);
  EXPECT_THROW(mi::read_header_file(write("list.yaml", "- just\n- a list\n")), majordome::CorruptFileError);
  EXPECT_THROW(mi::read_header_file(write("bad.json", "{\"A\": ")), majordome::CorruptFileError);
  EXPECT_THROW(mi::read_header_file(write("empty.yaml", "")), majordome::CorruptFileError);
  // A FITS file cut in the middle of its header.
  std::string card = "SIMPLE  =                    T";
  card.resize(80, ' ');
  EXPECT_THROW(mi::read_header_file(write("cut.fits", card + std::string(100, ' '))), majordome::CorruptFileError);
  EXPECT_THROW(mi::read_header_file(write("bin.fits", std::string("\x01\x02\0\x03", 4))),
               majordome::CorruptFileError);
}

TEST_F(HeaderSource, UserCorrectionFilesAreFoundByInstrumentAndObservationId) {
  Header h = lsst_header("ComCam");
  write("LSSTComCam-CC_O_20241120_000012.yaml", "FILTER: i_06\n");
  mi::TranslateOptions o;
  o.correction_search_path = {dir_};
  auto info = mi::translate(h, o);
  EXPECT_EQ(info.physical_filter, "i_06");
  mi::FixHeaderOptions f;
  f.search_path = {dir_};
  auto r = mi::fix_header(h, f);
  ASSERT_TRUE(r.correction_file);
  EXPECT_EQ(r.correction_file->filename(), "LSSTComCam-CC_O_20241120_000012.yaml");
}
