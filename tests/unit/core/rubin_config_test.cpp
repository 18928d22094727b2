#include "majordome/core/rubin_config.hpp"

#include <gtest/gtest.h>

#include "majordome/core/error.hpp"

namespace majordome {
namespace {

TEST(RubinConfig, SplitsStatementsSkippingPythonNoise) {
  const auto st = parse_config_py(
      "# AuxTel overrides\n"
      "import lsst.pipe.tasks\n"
      "from lsst.meas.algorithms import ReadFitsCatalogTask\n"
      "assert type(config) == X, 'type'\n"
      "\n"
      "config.groupExposures.name = \"one-to-one\"  # trailing comment\n"
      "config.skyMap[\"rings\"].tractBuilder['cells'].cellBorder=4\n"
      "config.mag_column_list = ['g',\n"
      "                          'r']  # two lines\n"
      "config.note = 'a # is not a comment, a = is not an assignment'\n"
      "config.file_reader.retarget(ReadFitsCatalogTask)\n",
      "c.py");
  ASSERT_EQ(st.size(), 5u);
  EXPECT_EQ(st[0].field, "groupExposures.name");
  EXPECT_EQ(st[0].value, "\"one-to-one\"");
  EXPECT_EQ(st[0].where, "c.py line 6");
  EXPECT_EQ(st[1].field, "skyMap[\"rings\"].tractBuilder['cells'].cellBorder");
  EXPECT_EQ(st[1].value, "4");
  EXPECT_EQ(st[2].value, "['g', 'r']");
  EXPECT_EQ(st[2].where, "c.py line 8");
  EXPECT_EQ(st[3].value, "'a # is not a comment, a = is not an assignment'");
  EXPECT_EQ(st[4].field, "file_reader.retarget(ReadFitsCatalogTask)");
  EXPECT_FALSE(st[4].value);
}

TEST(RubinConfig, ErrorsNameTheLine) {
  try {
    parse_config_py("config.a = 1\nprint('hello')\n", "c.py");
    FAIL() << "expected InvalidConfigError";
  } catch (const InvalidConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("c.py line 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_config_py("config.a = [1,\n2\n", "c.py"), InvalidConfigError);  // unclosed
  EXPECT_THROW(parse_config_py("config.a =\n", "c.py"), InvalidConfigError);         // no value
  EXPECT_THROW(read_config_py("/nonexistent/config.py"), NotFoundError);
}

TEST(RubinConfig, OverridesTakeFieldsWithOrWithoutThePrefix) {
  EXPECT_EQ(parse_config_override("groupExposures.name=one-to-one", "-c").field, "groupExposures.name");
  const auto st = parse_config_override("config.pm_scale = 1.0", "-c");
  EXPECT_EQ(st.field, "pm_scale");
  EXPECT_EQ(st.value, "1.0");
  EXPECT_THROW(parse_config_override("pm_scale", "-c"), InvalidConfigError);
}

TEST(RubinConfig, FieldPathsAndStringLiterals) {
  EXPECT_EQ(split_config_field("skyMap[\"rings\"].tractBuilder['cells'].cellBorder", "x"),
            (std::vector<std::string>{"skyMap", "[rings]", "tractBuilder", "[cells]", "cellBorder"}));
  EXPECT_THROW(split_config_field("skyMap[\"rings\".numRings", "x"), InvalidConfigError);
  EXPECT_EQ(unquote_python(" 'one-to-one' "), "one-to-one");
  EXPECT_EQ(unquote_python("\"rings\""), "rings");
  EXPECT_EQ(unquote_python("1.5"), "1.5");
}

}  // namespace
}  // namespace majordome
