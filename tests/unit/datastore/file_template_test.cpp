#include "majordome/core/error.hpp"
#include "majordome/datastore/file_template.hpp"

#include <gtest/gtest.h>

#include <string>

namespace majordome::datastore {
namespace {

constexpr const char* kUuid = "e15ab039-bc8b-4135-87c5-90902a7c0b22";

// The data ID of daf_butler's template tests: a calexp of visit 52.
TemplateValues calexp_values(const std::string& run = "run2") {
  TemplateValues v;
  v.set("instrument", "dummy")
      .set("visit", std::int64_t{52})
      .set("physical_filter", "Most Amazing U Filter Ever")
      .set("band", "b")
      .set("day_obs", std::int64_t{20200101})
      .set("run", run)
      .set("id", kUuid)
      .set_dataset_type("calexp");
  return v;
}

std::string format(std::string_view text, const TemplateValues& values) {
  return FileTemplate::parse(text).format(values);
}

template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

TEST(FileTemplate, SpecExampleRunWithSlash) {
  // spec/butler.md §6: run "run/2", filter "Most Amazing U Filter Ever".
  EXPECT_EQ(format("{run}/{datasetType}/{visit:05d}/{physical_filter}", calexp_values("run/2")),
            "run_2/calexp/00052/Most_Amazing_U_Filter_Ever");
}

TEST(FileTemplate, BasicPaths) {
  auto v = calexp_values();
  EXPECT_EQ(format("{run}/{datasetType}/{visit:05d}/{physical_filter}", v),
            "run2/calexp/00052/Most_Amazing_U_Filter_Ever");
  EXPECT_EQ(format("{run}/{datasetType}/{visit:05d}/{physical_filter}-trail", v),
            "run2/calexp/00052/Most_Amazing_U_Filter_Ever-trail");
  EXPECT_EQ(format("{run}/{datasetType}/{visit:05d}/{physical_filter}-trail-{run}", v),
            "run2/calexp/00052/Most_Amazing_U_Filter_Ever-trail-run2");
  EXPECT_EQ(format("{run}/{datasetType}/{visit:05d}/{physical_filter}-trail-{run}", calexp_values("run/2")),
            "run_2/calexp/00052/Most_Amazing_U_Filter_Ever-trail-run_2");
}

TEST(FileTemplate, KeepSlashOnlyWhereAsked) {
  EXPECT_EQ(format("{run:/}/{datasetType}/{visit:05d}/{physical_filter}-trail-{run}", calexp_values("run/2")),
            "run/2/calexp/00052/Most_Amazing_U_Filter_Ever-trail-run_2");
}

TEST(FileTemplate, DotsBecomeUnderscoresOnlyInFileName) {
  auto v = calexp_values("run.2");
  v.set("physical_filter", "g.10");
  EXPECT_EQ(format("{run:/}/{datasetType}/{visit:05d}/{physical_filter}-trail-{run}", v),
            "run.2/calexp/00052/g_10-trail-run_2");
  v.set("physical_filter", "a#b");
  EXPECT_EQ(format("{run}/{physical_filter}/{physical_filter}", v), "run.2/a#b/aHASHb");
}

TEST(FileTemplate, IdAloneIsEnough) {
  auto v = calexp_values();
  EXPECT_EQ(format("{id}", v), kUuid);
  EXPECT_EQ(format("{run}/{id}", v), std::string("run2/") + kUuid);
  EXPECT_EQ(format("fixed/{id}", v), std::string("fixed/") + kUuid);
  EXPECT_EQ(format("fixed/{id}_{physical_filter}", v), std::string("fixed/") + kUuid + "_Most_Amazing_U_Filter_Ever");
}

TEST(FileTemplate, ParseRejectsTemplatesThatCannotGiveUniquePaths) {
  for (const char* text : {"no fields at all", "{visit}", "{run}_{datasetType}", "{id}/fixed",
                           "{run}/../{datasetType}_{visit}", "{collection}/{visit}"}) {
    std::string message = error_of<InvalidConfigError>([&] { FileTemplate::parse(text); });
    EXPECT_NE(message.find(text), std::string::npos) << message;
  }
}

TEST(FileTemplate, ParseRejectsBadSyntax) {
  struct Case {
    const char* text;
    const char* problem;
  };
  for (const Case& c : {Case{"{run}/{visit", "unbalanced '{'"}, Case{"{run}/visit}", "single '}'"},
                        Case{"{run}/{}", "empty field name"}, Case{"{run}/{a.b.c}", "malformed field name"},
                        Case{"{run}/{visit|}", "malformed field name"}, Case{"{run}/{2x}", "malformed field name"},
                        Case{"{run}/{visit[0]}", "malformed field name"}, Case{"{run}/{visit!r}", "'!r'"},
                        Case{"{run}/{visit!q}", "unknown conversion"}, Case{"{run}/{visit!sx}", "expected ':'"},
                        Case{"{run}/{visit:{width}}", "nested"}, Case{"{run}/{visit:05.2f}", "floating-point"},
                        Case{"{run}/{visit:xx}", "Invalid format specifier"},
                        Case{"{run}/{visit:.}", "missing precision"}}) {
    std::string message = error_of<InvalidConfigError>([&] { FileTemplate::parse(c.text); });
    EXPECT_NE(message.find(c.text), std::string::npos) << message;
    EXPECT_NE(message.find(c.problem), std::string::npos) << c.text << ": " << message;
  }
}

TEST(FileTemplate, EscapedBraces) {
  auto v = calexp_values();
  EXPECT_EQ(format("{run}/x{{y}}/{visit}", v), "run2/x{y}/52");
  // As Python's Formatter.parse, an escaped brace ends the literal that an optional
  // field would drop with itself.
  EXPECT_EQ(format("{run}/{visit}/a{{b{tract:?}", v), "run2/52/a{");
}

TEST(FileTemplate, Alternates) {
  auto v = calexp_values();
  EXPECT_EQ(format("{run}/{datasetType}/{visit:05d}/{physical_filter|day_obs}_{day_obs|physical_filter}", v),
            "run2/calexp/00052/Most_Amazing_U_Filter_Ever_20200101");
  EXPECT_EQ(format("{run}/{datasetType}/{exposure|visit:05d}/{physical_filter|day_obs}_{group|exposure:?}", v),
            "run2/calexp/00052/Most_Amazing_U_Filter_Ever");
}

TEST(FileTemplate, MissingAlternatesNameTheWholeField) {
  std::string message = error_of<NotFoundError>([] { format("{run}/{exposure|group}", calexp_values()); });
  EXPECT_NE(message.find("'exposure|group'"), std::string::npos) << message;
}

TEST(FileTemplate, OptionalFields) {
  auto v = calexp_values();
  EXPECT_EQ(format("{run}/{datasetType}/v{visit:05d}_f{physical_filter:?}_{skypix:?}", v),
            "run2/calexp/v00052_fMost_Amazing_U_Filter_Ever");
  TemplateValues sky;
  sky.set("visit", std::int64_t{48})
      .set("tract", std::int64_t{265})
      .set("skymap", "big")
      .set("instrument", "dummy")
      .set("htm7", std::int64_t{12345})
      .set("run", "run2")
      .set_dataset_type("calexpT");
  EXPECT_EQ(format("{run}/{datasetType}/v{visit:05d}_f{physical_filter:?}_{skypix:?}", sky),
            "run2/calexpT/v00048_12345");
  // A relative path even when the first field is dropped; '//' collapsed.
  EXPECT_EQ(format("{run}/{tract:?}/{visit:?}/f{physical_filter}", v), "run2/52/fMost_Amazing_U_Filter_Ever");
  EXPECT_EQ(format("{tract:?}/{run}/f{physical_filter}", v), "run2/fMost_Amazing_U_Filter_Ever");
  EXPECT_EQ(format("{run}/{datasetType}/{patch:?}/{tract:?}/f{physical_filter}", v),
            "run2/calexp/fMost_Amazing_U_Filter_Ever");
  EXPECT_EQ(format("{run}/{datasetType}/p{patch:?}_t{tract:?}/f{physical_filter}", v),
            "run2/calexp/p/fMost_Amazing_U_Filter_Ever");
  EXPECT_EQ(format("{run}/{datasetType}/p{patch:?}_t{visit:04d?}/f{physical_filter}", v),
            "run2/calexp/p_t0052/fMost_Amazing_U_Filter_Ever");
}

TEST(FileTemplate, Components) {
  TemplateValues metric = calexp_values();
  metric.set_dataset_type("metric");
  TemplateValues output = calexp_values();
  output.set_dataset_type("metric.output");
  TemplateValues variance = calexp_values();
  variance.set_dataset_type("calexp.maskedimage.variance");

  EXPECT_EQ(format("{run}_c_{component}_v{visit}", output), "run2_c_output_v52");
  auto tmpl = FileTemplate::parse("{component:?}/{run}_{component:?}_{visit}");
  EXPECT_EQ(tmpl.format(metric), "run2_52");
  EXPECT_EQ(tmpl.format(output), "output/run2_output_52");
  EXPECT_EQ(tmpl.format(variance), "maskedimage.variance/run2_maskedimage_variance_52");

  TemplateValues wcs = calexp_values();
  wcs.set_dataset_type("calexp.wcs");
  std::string message = error_of<InvalidConfigError>([&] { format("{run}/{datasetType}/v{visit:05d}", wcs); });
  EXPECT_NE(message.find("'wcs'"), std::string::npos) << message;
}

TEST(FileTemplate, Fields) {
  struct Case {
    const char* text;
    std::set<std::string> mandatory, optional, special, optional_special;
  };
  for (const Case& c : {
           Case{"{run}/{datasetType}/{visit:05d}/{physical_filter}-trail", {"visit", "physical_filter"}, {},
                {"run", "datasetType"}, {}},
           Case{"{run}/{component:?}_{visit}", {"visit"}, {}, {"run"}, {"component"}},
           Case{"{run}/{component:?}_{visit:?}_{physical_filter}_{instrument}_{datasetType}",
                {"physical_filter", "instrument"}, {"visit"}, {"run", "datasetType"}, {"component"}},
       }) {
    auto t = FileTemplate::parse(c.text);
    auto join = [](std::set<std::string> a, const std::set<std::string>& b) {
      a.insert(b.begin(), b.end());
      return a;
    };
    EXPECT_EQ(t.fields(), c.mandatory) << c.text;
    EXPECT_EQ(t.fields({.optionals = true}), join(c.mandatory, c.optional)) << c.text;
    EXPECT_EQ(t.fields({.specials = true}), join(c.mandatory, c.special)) << c.text;
    EXPECT_EQ(t.fields({.optionals = true, .specials = true}),
              join(join(c.mandatory, c.special), join(c.optional, c.optional_special)))
        << c.text;
  }
  auto t = FileTemplate::parse("{run}/{day_obs|visit.day_obs:?}/{detector.full_name}");
  EXPECT_EQ(t.fields(), (std::set<std::string>{"detector"}));
  EXPECT_EQ(t.fields({.optionals = true, .subfields = true}),
            (std::set<std::string>{"day_obs", "visit.day_obs", "detector.full_name"}));
}

TEST(FileTemplate, MissingFieldNamesFieldAndTemplate) {
  const char* text = "{run}/{datasetType}/{tract}/{visit}";
  std::string message = error_of<NotFoundError>([&] { format(text, calexp_values()); });
  EXPECT_NE(message.find("'tract'"), std::string::npos) << message;
  EXPECT_NE(message.find(text), std::string::npos) << message;
}

TEST(FileTemplate, RecordFieldsNeedAnAttachedRecord) {
  auto v = calexp_values();
  // visit is present but no record is attached: the data ID was not expanded.
  std::string message = error_of<InvalidArgumentError>([&] { format("{run}/{visit.name:?}/{visit}", v); });
  EXPECT_NE(message.find("no dimension record for 'visit'"), std::string::npos) << message;
  // With the record attached, an absent field is just missing.
  v.add_record("visit");
  EXPECT_EQ(format("{run}/{visit.name:?}/{visit}", v), "run2/52");
  EXPECT_THROW(format("{run}/{visit.name}/{visit}", v), NotFoundError);
  v.set("visit.name", "HSCA00005200");
  EXPECT_EQ(format("{run}/{visit.name}/{visit}", v), "run2/HSCA00005200/52");
  // A record field of an absent dimension is missing, record or not.
  EXPECT_EQ(format("{run}/{exposure.obs_id:?}/{visit}", v), "run2/52");
}

TEST(FileTemplate, CiHscCalexpWithDefaultTemplate) {
  // spec/butler.md §6: a ci_hsc calexp stored with Rubin's default template.
  TemplateValues v;
  v.set("instrument", "HSC")
      .set("visit", std::int64_t{903334})
      .set("detector", std::int64_t{16})
      .set("band", "r")
      .set("physical_filter", "HSC-R")
      .set("day_obs", std::int64_t{20130617})
      .set("visit.day_obs", std::int64_t{20130617})
      .set("visit.name", "HSCA90333400")
      .set("detector.full_name", "0_26")
      .set("run", "HSC/runs/ci_hsc/20240806T180642Z")
      .set("id", kUuid)
      .set_dataset_type("calexp");
  v.add_record("instrument").add_record("band").add_record("physical_filter").add_record("day_obs");
  EXPECT_EQ(FileTemplate::parse(kDefaultTemplate).format(v) + ".fits",
            "HSC/runs/ci_hsc/20240806T180642Z/calexp/20130617/r/HSC-R/903334/"
            "calexp_HSC_r_HSC-R_903334_0_26_HSC_runs_ci_hsc_20240806T180642Z.fits");
}

TEST(FileTemplate, RawTemplate) {
  TemplateValues v;
  v.set("instrument", "LATISS")
      .set("exposure", std::int64_t{2022031600330})
      .set("detector", std::int64_t{0})
      .set("physical_filter", "empty~empty")
      .set("band", "white")
      .set("day_obs", std::int64_t{20220316})
      .set("group", "2022-03-16T22:01:55.044")
      .set("exposure.obs_id", "AT_O_20220316_000330")
      .set("exposure.day_obs", std::int64_t{20220316})
      .set("detector.full_name", "RXX_S00")
      .set("run", "LATISS/raw/all")
      .set_dataset_type("raw");
  EXPECT_EQ(FileTemplate::parse(kRawTemplate).format(v),
            "LATISS/raw/all/raw/20220316/AT_O_20220316_000330/"
            "raw_LATISS_empty~empty_AT_O_20220316_000330_RXX_S00_LATISS_raw_all");
}

TEST(FileTemplate, SkypixAliasHscWarpExample) {
  // spec/butler.md §6: HSC visit 27136, htm7 12345, run "test".
  const char* text = "{run}/{datasetType}/{visit.name|exposure.obs_id|xyz}_{instrument}_{skypix}_{htm7}_{skypix.id}_"
                     "{htm7.id}";
  TemplateValues by_exposure;
  by_exposure.set("instrument", "HSC")
      .set("exposure", std::int64_t{27136})
      .set("exposure.obs_id", "HSCA02713600")
      .set("htm7", std::int64_t{12345})
      .set("run", "test")
      .set_dataset_type("warp");
  EXPECT_EQ(format(text, by_exposure), "test/warp/HSCA02713600_HSC_12345_12345_12345_12345");

  TemplateValues by_visit;
  by_visit.set("instrument", "HSC")
      .set("visit", std::int64_t{27136})
      .set("visit.name", "HSCA02713600")
      .set("htm7", std::int64_t{12345})
      .set("run", "test")
      .set_dataset_type("warp");
  EXPECT_EQ(format(text, by_visit), "test/warp/HSCA02713600_HSC_12345_12345_12345_12345");
}

TEST(FileTemplate, SkypixIsAmbiguousWithTwoPixelizations) {
  auto v = calexp_values();
  v.set("htm7", std::int64_t{1}).set("healpix10", std::int64_t{2});
  EXPECT_FALSE(v.skypix_dimension());
  EXPECT_EQ(format("{run}/{visit}_{skypix:?}", v), "run2/52");
  EXPECT_THROW(format("{run}/{visit}_{skypix}", v), NotFoundError);
}

TEST(FileTemplate, FormatSpecMiniLanguage) {
  TemplateValues v = calexp_values();
  v.set("n", std::int64_t{-5}).set("big", std::int64_t{1234567}).set("s", "abc").set("u", "é");
  struct Case {
    const char* field;
    const char* expected;
  };
  for (const Case& c : {Case{"{visit:08d}", "00000052"}, Case{"{visit}", "52"}, Case{"{visit:+d}", "+52"},
                        Case{"{visit: d}", "_52"},
                        Case{"{n:05d}", "-0005"}, Case{"{n:>5}", "___-5"}, Case{"{n:*<5}", "-5***"},
                        Case{"{visit:^6}", "__52__"}, Case{"{visit:x}", "34"}, Case{"{visit:#x}", "0x34"},
                        Case{"{visit:#X}", "0X34"}, Case{"{visit:#b}", "0b110100"}, Case{"{visit:o}", "64"},
                        Case{"{big:,}", "1,234,567"}, Case{"{big:_}", "1_234_567"}, Case{"{big:_x}", "12_d687"},
                        Case{"{visit:c}", "4"}, Case{"{visit:=+6}", "+___52"}, Case{"{visit:<05}", "52000"},
                        Case{"{s:.2}", "ab"}, Case{"{s:.2s}", "ab"}, Case{"{s:*^7}", "**abc**"},
                        Case{"{s:>5}", "__abc"}, Case{"{s:05}", "abc00"}, Case{"{u:*>3}", "**é"},
                        Case{"{day_obs!s:.4s}", "2020"}, Case{"{day_obs!s}", "20200101"}}) {
    std::string text = std::string("{run}/x_") + c.field;
    // Padding spaces are part of the formatted value, not of the string value, so they
    // stay spaces; the expectations write them as '_' for readability.
    std::string got = format(text, v);
    for (char& ch : got) {
      if (ch == ' ') ch = '_';
    }
    EXPECT_EQ(got, std::string("run2/x_") + c.expected) << c.field;
  }
}

TEST(FileTemplate, FormatSpecTypeMismatchIsAConfigError) {
  auto v = calexp_values();
  for (const char* text : {"{run}/{physical_filter:05d}", "{run}/{visit:s}", "{run}/{visit:.3}",
                           "{run}/{physical_filter:+}", "{run}/{physical_filter:=5}", "{run}/{physical_filter:,}",
                           "{run}/{visit:,x}"}) {
    std::string message = error_of<InvalidConfigError>([&] { format(text, v); });
    EXPECT_NE(message.find(text), std::string::npos) << message;
  }
}

TEST(FileTemplate, StringValuesAreSanitised) {
  auto v = calexp_values();
  v.set("physical_filter", "a<b>c:d\"e\\f|g?h*i j/k");
  EXPECT_EQ(format("{run}/{physical_filter}/{visit}", v), "run2/a_b_c_d_e_f_g_h_i_j_k/52");
  EXPECT_EQ(format("{run}/{physical_filter:/}/{visit}", v), "run2/a_b_c_d_e_f_g_h_i_j/k/52");
}

TEST(FileTemplate, PathsStayInsideTheRoot) {
  auto v = calexp_values("/abs/run");
  EXPECT_EQ(format("{run:/}/{datasetType}/{visit}", v), "abs/run/calexp/52");
  for (const char* run : {"../x", "a/../../x", ".."}) {
    auto escaping = calexp_values(run);
    EXPECT_THROW(format("{run:/}/{visit}", escaping), InvalidArgumentError) << run;
  }
  // Without ':/' the slash is gone, and ".._x" is an ordinary directory name.
  EXPECT_EQ(format("{run}/{visit}", calexp_values("../x")), ".._x/52");
}

TEST(FileTemplate, ValidateAgainstDatasetTypes) {
  DatasetTypeInfo calexp{"calexp", "ExposureF", {"instrument", "detector", "visit"},
                         {"band", "day_obs", "physical_filter"}};
  FileTemplate::parse(kDefaultTemplate).validate(calexp);
  FileTemplate::parse("{run}/{datasetType}/{visit}/{detector}_{instrument}_{band:?}").validate(calexp);

  std::string unused = error_of<InvalidConfigError>(
      [&] { FileTemplate::parse("{run}/{datasetType}/{visit}").validate(calexp); });
  EXPECT_NE(unused.find("'detector', 'instrument'"), std::string::npos) << unused;
  EXPECT_NE(unused.find("same path"), std::string::npos) << unused;

  std::string foreign = error_of<InvalidConfigError>(
      [&] { FileTemplate::parse("{run}/{tract}/{visit}/{detector}_{instrument}").validate(calexp); });
  EXPECT_NE(foreign.find("'tract'"), std::string::npos) << foreign;

  // Components.
  DatasetTypeInfo wcs = calexp;
  wcs.name = "calexp.wcs";
  EXPECT_THROW(FileTemplate::parse("{run}/{visit}/{detector}_{instrument}").validate(wcs), InvalidConfigError);
  FileTemplate::parse("{run}/{visit}/{detector}_{instrument}_{component:?}").validate(wcs);
  EXPECT_THROW(FileTemplate::parse("{run}/{visit}/{detector}_{instrument}_{component}").validate(calexp),
               InvalidConfigError);

  // A sky-pixel dimension may be written as "skypix".
  DatasetTypeInfo refcat{"gaia_dr3", "SimpleCatalog", {"htm7"}, {}};
  FileTemplate::parse("{run}/{datasetType}/{skypix}").validate(refcat);
  FileTemplate::parse(kDefaultTemplate).validate(refcat);
  EXPECT_THROW(FileTemplate::parse("{run}/{datasetType}/{id}").validate(refcat), InvalidConfigError);

  // Raw.
  DatasetTypeInfo raw{"raw", "Exposure", {"instrument", "detector", "exposure"},
                      {"band", "day_obs", "group", "physical_filter"}};
  FileTemplate::parse(kRawTemplate).validate(raw);
  EXPECT_THROW(FileTemplate::parse(kRawTemplate).validate(calexp), InvalidConfigError);
}

TEST(TemplateValues, NamesAndDatasetTypes) {
  TemplateValues v;
  EXPECT_THROW(v.set("", std::int64_t{1}), InvalidArgumentError);
  EXPECT_THROW(v.set("a.b.c", std::int64_t{1}), InvalidArgumentError);
  EXPECT_THROW(v.set(".b", std::int64_t{1}), InvalidArgumentError);
  v.set("exposure.obs_id", "X");
  EXPECT_TRUE(v.has_record("exposure"));
  EXPECT_FALSE(v.contains("exposure"));
  v.set_dataset_type("calexp.wcs");
  EXPECT_EQ(std::get<std::string>(*v.find("component")), "wcs");
  v.set_dataset_type("calexp");
  EXPECT_FALSE(v.contains("component"));
  EXPECT_EQ(std::get<std::string>(*v.find("datasetType")), "calexp");
  EXPECT_TRUE(TemplateValues::is_skypix_dimension("htm7"));
  EXPECT_TRUE(TemplateValues::is_skypix_dimension("healpix11"));
  EXPECT_FALSE(TemplateValues::is_skypix_dimension("htm"));
  EXPECT_FALSE(TemplateValues::is_skypix_dimension("htm7.id"));
  EXPECT_FALSE(TemplateValues::is_skypix_dimension("skypix"));
}

}  // namespace
}  // namespace majordome::datastore
