// The Rubin test-stand translators (LSST-TS3, LSST-TS8, LSST-UCDCam) on synthetic headers:
// detection, detector lookup by serial in data/instruments/serials/, exposure ids of the
// old and new numbering, the TS8 end-time fix-up, and the errors a user sees.
#include <gtest/gtest.h>

#include "majordome/core/error.hpp"
#include "majordome/instrument/translator.hpp"

namespace mi = majordome::instrument;
using majordome::TaiTime;
using majordome::image::Header;

namespace {

mi::TranslateOptions pedantic() {
  mi::TranslateOptions o;
  o.mode = mi::TranslationMode::kPedantic;
  return o;
}

Header ts3_header() {
  Header h;
  h.set("TSTAND", "BNL-TS3-2-Janeway");
  h.set("INSTRUME", "ArchonCCDController");
  h.set("DATE-OBS", "2016-07-22T06:07:06.784");
  h.set("MJD-OBS", 57591.254939629696);
  h.set("LSST_NUM", "ITL-3800C-098");
  h.set("TESTTYPE", "LAMBDA");
  h.set("IMGTYPE", "FLAT");
  h.set("SEQNUM", 67);
  h.set("FILTER", "550CutOn");
  h.set("EXPTIME", 30.611);
  h.set("FILENAME", "ITL-3800C-098_lambda_flat_1000_067_20160722020740.fits");
  return h;
}

// A 2018 TS8 header: no TSTAND, no OBSID; recognised by its raft controller.
Header ts8_2018_header() {
  Header h;
  h.set("DATE-OBS", "2018-07-24T10:41:56.807");
  h.set("MJD-OBS", 58323.44579637749);
  h.set("RUNNUM", "6006D");
  h.set("CONTNUM", "000018910e0c");
  h.set("LSST_NUM", "E2V-CCD250-179-Dev");
  h.set("RAFTNAME", "LCA-11021_RTM-010-Dev");
  h.set("REBNAME", "R00.Reb1");
  h.set("TESTTYPE", "LAMBDA");
  h.set("IMGTYPE", "BIAS");
  h.set("SEQNUM", 24);
  h.set("EXPTIME", 0.0);
  h.set("FILTPOS", 6);
  h.set("FILENAME", "E2V-CCD250-179_lambda_bias_024_6006D_20180724104156.fits");
  return h;
}

// A TS8 header of the LSSTCam-style era, DATE-OBS stamped at the END of the exposure.
Header ts8_ccs_header(const std::string& day, const std::string& date_obs, double mjd_obs, int seq) {
  Header h;
  h.set("TSTAND", "TS8");
  h.set("INSTRUME", "LSST-TS8");
  h.set("TELESCOP", "LSST");
  h.set("DATE-OBS", date_obs);
  h.set("MJD-OBS", mjd_obs);
  h.set("DATE-TRG", date_obs);
  h.set("MJD-TRG", mjd_obs);
  h.set("OBSID", "TS_C_" + day + "_" + std::string(6 - std::to_string(seq).size(), '0') + std::to_string(seq));
  h.set("CONTRLLR", "C");
  h.set("DAYOBS", day);
  h.set("SEQNUM", seq);
  h.set("RUNNUM", "7074D");
  h.set("TESTTYPE", "SPOT_FLAT");
  h.set("IMGTYPE", "SPOT");
  h.set("EXPTIME", 210.0);
  h.set("LSST_NUM", "ITL-3800C-372");
  h.set("RAFTNAME", "LCA-11021_RTM-004");
  h.set("REBNAME", "LCA-13574-061");
  h.set("RAFTBAY", "R22");
  h.set("CCDSLOT", "S00");
  h.set("FILTER", "unspecified");
  return h;
}

Header ucd_header() {
  Header h;
  h.set("INSTRUME", "LSST-UCDCam-ITL");
  h.set("TSTAND", "LSST_Beam_Simulator");
  h.set("DATE-OBS", "2023-07-30T22:24:06.581");
  h.set("MJD-OBS", 60155.933409502264);
  h.set("OBSID", "TS_C_20230730_000237");
  h.set("CONTRLLR", "C");
  h.set("DAYOBS", "20230730");
  h.set("SEQNUM", 237);
  h.set("IMGTYPE", "FLAT");
  h.set("TESTTYPE", "FLAT");
  h.set("EXPTIME", 2.0);
  h.set("DARKTIME", 3.082);
  h.set("RAFTBAY", "R22");
  h.set("CCDSLOT", "S01");
  h.set("LSST_NUM", "ITL-3800C-002");
  h.set("FILTER", "r");
  return h;
}

}  // namespace

TEST(TestStands, Ts3FindsThePseudoRaftOfTheSensorFromItsSerial) {
  auto info = mi::translate(ts3_header(), pedantic());
  EXPECT_EQ(info.translator, "LSST-TS3");
  EXPECT_EQ(info.instrument, "LSST-TS3");
  EXPECT_EQ(info.telescope, std::nullopt);
  EXPECT_EQ(info.detector_group, "R071");
  EXPECT_EQ(info.detector_name, "S00");
  EXPECT_EQ(info.detector_num, 71);
  EXPECT_EQ(info.exposure_id, 201607220607067);  // DATE-OBS digits to 0.1 s
  EXPECT_EQ(info.visit_id, 201607220607067);
  EXPECT_EQ(info.detector_exposure_id, 201607220607067071);
  EXPECT_EQ(info.observation_id, "ITL-3800C-098_lambda_flat_1000_067_20160722020740");
  EXPECT_EQ(info.science_program, "2016-07-22");
  EXPECT_EQ(info.observing_day, 20160721);  // 06:07 UTC is still the previous test-stand day
  EXPECT_EQ(info.observing_day_offset_s, 28800.0);
  EXPECT_EQ(info.physical_filter, "550CutOn");
  EXPECT_EQ(info.observation_reason, "lambda");
  EXPECT_EQ(info.can_see_sky, false);
  EXPECT_EQ(info.tracking_radec, std::nullopt);
  EXPECT_EQ(info.location, std::nullopt);
}

TEST(TestStands, Ts8Of2018IsRecognisedByItsControllerAndUsesTheFilterWheel) {
  auto info = mi::translate(ts8_2018_header(), pedantic());
  EXPECT_EQ(info.translator, "LSST-TS8");
  EXPECT_EQ(info.detector_serial, "E2V-CCD250-179");  // "-Dev" dropped
  EXPECT_EQ(info.detector_group, "RTM-010");
  EXPECT_EQ(info.detector_name, "S11");
  EXPECT_EQ(info.detector_num, 67);
  EXPECT_EQ(info.exposure_id, 201807241041568);
  EXPECT_EQ(info.detector_exposure_id, 201807241041568067);
  EXPECT_EQ(info.physical_filter, "y");  // FILTPOS 6
  EXPECT_EQ(info.science_program, "6006D");
  EXPECT_EQ(info.observation_type, "bias");

  Header other = ts8_2018_header();
  other.set("CONTNUM", "0000deadbeef");  // not a TS8 raft controller: nobody claims it
  EXPECT_EQ(mi::find_translator(other), std::nullopt);
}

TEST(TestStands, Ts8FixUpMovesTheBeginBackByTheExposureTimeAndKeepsTheOldId) {
  // 2022: DATE-OBS equals the trigger time, the end of a 210 s exposure (UTC, no TIMESYS).
  Header h = ts8_ccs_header("20220711", "2022-07-11T17:14:45.995", 59771.71858790517, 174);
  auto info = mi::translate(h, pedantic());
  EXPECT_EQ(info.exposure_id, 202207111714459);  // from the original DATE-OBS
  EXPECT_EQ(info.detector_exposure_id, 202207111714459018);
  ASSERT_TRUE(info.datetime_begin && info.datetime_end);
  EXPECT_EQ(info.datetime_end->utc_iso(3), "2022-07-11T17:14:45.995");
  // The begin is written on the header's scale (UTC here) and read, as obs_lsst reads MJD-BEG, as TAI.
  EXPECT_EQ(info.datetime_begin->tai_iso(3, 'T'), "2022-07-11T17:11:15.995");
  EXPECT_EQ(info.physical_filter, "unknown");  // FILTER 'unspecified'
  EXPECT_EQ(info.observing_day, 20220711);

  Header fixed = h;
  auto result = mi::fix_header(fixed);
  EXPECT_TRUE(result.modified);
  EXPECT_EQ(fixed.find_string("DATE-END"), "2022-07-11T17:14:45.995");
  EXPECT_EQ(fixed.find_string("DATE-OBS"), "2022-07-11T17:11:15.995");

  // A header whose DATE-OBS differs from DATE-TRG is left alone, and so is one without EXPTIME.
  Header untouched = h;
  untouched.set("DATE-TRG", "2022-07-11T17:18:15.995");
  EXPECT_FALSE(mi::fix_header(untouched).modified);
  Header no_exptime = h;
  no_exptime.erase("EXPTIME");
  EXPECT_FALSE(mi::fix_header(no_exptime).modified);
  EXPECT_FALSE(no_exptime.contains("DATE-END"));

  // With TIMESYS = TAI the dates are on the TAI scale.
  Header tai = ts8_ccs_header("20230523", "2023-05-23T19:36:34.638", 60087.81706756959, 127);
  tai.set("TIMESYS", "TAI");
  tai.set("EXPTIME", 15.0);
  ASSERT_TRUE(mi::fix_header(tai).modified);
  EXPECT_EQ(tai.find_string("DATE-OBS"), "2023-05-23T19:36:19.638");
  auto tinfo = mi::translate(tai, pedantic());
  EXPECT_EQ(tinfo.datetime_begin->tai_iso(3, 'T'), "2023-05-23T19:36:19.638");
  EXPECT_EQ(tinfo.datetime_end->tai_iso(3, 'T'), "2023-05-23T19:36:34.638");
  EXPECT_EQ(tinfo.exposure_id, 202305231936346);  // from the original DATE-OBS

  // Unknown filter-wheel positions give "unknown"; a GROUPID names the exposure group.
  Header wheel = ts8_2018_header();
  wheel.set("FILTPOS", 9);
  wheel.set("GROUPID", "ptc_scan_7");
  auto winfo = mi::translate(wheel, pedantic());
  EXPECT_EQ(winfo.physical_filter, "unknown");
  EXPECT_EQ(winfo.exposure_group, "ptc_scan_7");
}

TEST(TestStands, Ts8SwitchesToLsstCamExposureIdsAfterMay24th2023) {
  Header before = ts8_ccs_header("20230523", "2023-05-23T19:36:19.477", 60087.81689209491, 127);
  before.set("DATE-TRG", "2023-05-23T19:36:34.638");
  before.set("TIMESYS", "TAI");
  EXPECT_EQ(mi::translate(before, pedantic()).exposure_id, 202305231936194);

  Header after = ts8_ccs_header("20230525", "2023-05-25T17:45:19.715", 60089.73981151637, 41);
  after.set("DATE-TRG", "2023-05-25T17:45:49.866");
  after.set("TIMESYS", "TAI");
  auto info = mi::translate(after, pedantic());
  EXPECT_EQ(info.exposure_id, 3023052500041);  // controller C, before 2023-10-05
  EXPECT_EQ(info.detector_exposure_id, 3023052500041018);
}

TEST(TestStands, UcdCamUsesLsstCamKeywordsWithoutADayOffset) {
  auto info = mi::translate(ucd_header(), pedantic());
  EXPECT_EQ(info.translator, "LSST-UCDCam");
  EXPECT_EQ(info.instrument, "LSST-UCDCam");
  EXPECT_EQ(info.detector_num, 1);
  EXPECT_EQ(info.exposure_id, 3023073000237);
  EXPECT_EQ(info.detector_exposure_id, 179029732609);
  EXPECT_EQ(info.exposure_group, "3023073000237");
  EXPECT_EQ(info.observing_day_offset_s, 0.0);
  EXPECT_EQ(info.science_program, "unknown");
  EXPECT_EQ(info.can_see_sky, false);

  // A slot without a row of its own: its raft's first id plus the slot index.
  Header other = ucd_header();
  other.set("RAFTBAY", "R21");
  other.set("CCDSLOT", "S02");
  EXPECT_EQ(mi::translate(other, pedantic()).detector_num, 11);
}

TEST(TestStands, MissingDateIsAMissingKeywordNotAGuess) {
  Header h = ts3_header();
  h.erase("MJD-OBS");
  try {
    mi::translate(h, pedantic());
    FAIL() << "expected NotFoundError";
  } catch (const majordome::NotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find("MJD-OBS"), std::string::npos) << e.what();
  }
  auto info = mi::translate(h);
  EXPECT_FALSE(info.datetime_begin);
  EXPECT_FALSE(info.datetime_end);
  EXPECT_FALSE(info.science_program);
  EXPECT_EQ(info.exposure_id, 201607220607067);  // from DATE-OBS, still there
}

TEST(TestStands, UnknownSerialOrRaftIsNamedWithTheTableToEdit) {
  Header h = ts3_header();
  h.set("LSST_NUM", "ITL-3800C-999999");
  try {
    mi::translate(h, pedantic());
    FAIL() << "expected NotFoundError";
  } catch (const majordome::NotFoundError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("ITL-3800C-999999"), std::string::npos) << msg;
    EXPECT_NE(msg.find("serials/LSST-TS3.yaml"), std::string::npos) << msg;
    EXPECT_NE(msg.find("add its row"), std::string::npos) << msg;
  }
  auto info = mi::translate(h);  // not pedantic: the rest still translates
  EXPECT_FALSE(info.detector_num);
  EXPECT_EQ(info.exposure_id, 201607220607067);
  ASSERT_TRUE(info.failures.contains("detector_num"));
  EXPECT_EQ(info.failures.at("detector_num"), std::vector<std::string>{"LSST_NUM"});

  Header raft = ts8_2018_header();
  raft.set("RAFTNAME", "LCA-11021_prototype");
  EXPECT_THROW(mi::translate(raft, pedantic()), majordome::NotFoundError);

  Header slot = ucd_header();
  slot.set("RAFTBAY", "R99");
  EXPECT_THROW(mi::translate(slot, pedantic()), majordome::NotFoundError);
}
