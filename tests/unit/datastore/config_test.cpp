// ConfigValue and Config: Python literals as pex_config writes them, and back.
#include "majordome/datastore/config.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "majordome/core/error.hpp"

namespace majordome::datastore {
namespace {

TEST(ConfigValue, WritesPythonReprAndReadsItBack) {
  const std::vector<std::pair<ConfigValue, std::string>> cases = {
      {ConfigValue(), "None"},
      {ConfigValue(true), "True"},
      {ConfigValue(-42), "-42"},
      {ConfigValue(0.1), "0.1"},
      {ConfigValue(2.0), "2.0"},
      {ConfigValue(-0.0), "-0.0"},
      {ConfigValue(1e16), "1e+16"},
      {ConfigValue(1.5e-7), "1.5e-07"},
      {ConfigValue(-std::numeric_limits<double>::infinity()), "-1e999"},
      {ConfigValue("plain"), "'plain'"},
      {ConfigValue("it's"), "\"it's\""},
      {ConfigValue("both ' and \""), "'both \\' and \"'"},
      {ConfigValue("tab\tline\nbell\x07"), "'tab\\tline\\nbell\\x07'"},
      {ConfigValue(ConfigList{1, "a", ConfigList{}}), "[1, 'a', []]"},
      {ConfigValue(ConfigDict{{"k", 1}, {ConfigValue(2), nullptr}}), "{'k': 1, 2: None}"},
  };
  for (const auto& [value, text] : cases) {
    EXPECT_EQ(value.to_python(), text);
    EXPECT_EQ(ConfigValue::from_python(text), value) << text;
  }
  EXPECT_EQ(ConfigValue(std::numeric_limits<double>::quiet_NaN()).to_python(), "float('nan')");
  EXPECT_TRUE(std::isnan(*ConfigValue::from_python("float('nan')").get_if<double>()));
  // Other spellings Python accepts.
  EXPECT_EQ(ConfigValue::from_python("(1, 2,)"), ConfigValue(ConfigList{1, 2}));
  EXPECT_EQ(ConfigValue::from_python("'a' \"b\""), ConfigValue("ab"));
  EXPECT_EQ(ConfigValue::from_python("'\\u00e9\\U0001F600'"), ConfigValue("é😀"));
  EXPECT_EQ(ConfigValue::from_python("1_000"), ConfigValue(1000));
  EXPECT_EQ(ConfigValue::from_python("-9223372036854775808"), ConfigValue(std::numeric_limits<std::int64_t>::min()));
  for (const char* bad : {"", "[1, 2", "'open", "Nonesuch", "1 2", "os.system('x')", "007", "99999999999999999999"})
    EXPECT_THROW(ConfigValue::from_python(bad), InvalidArgumentError) << bad;
}

TEST(Config, SetKeepsOrderAndReplacesInPlace) {
  Config c;
  c.set("b", 1);
  c.set("a", 2);
  c.set("b", 3);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c.entries()[0].first, "b");
  EXPECT_EQ(c.get("b"), ConfigValue(3));
  EXPECT_EQ(c.find("zz"), nullptr);
  EXPECT_THROW(c.get("zz"), NotFoundError);
  EXPECT_THROW(c.set("two\nlines", 1), InvalidArgumentError);
  EXPECT_EQ(c.to_python(), "# majordome Config, format version 1\nconfig.b=3\nconfig.a=2\n");
  EXPECT_EQ(Config::from_python(c.to_python()), c);
  EXPECT_THROW(Config::from_python("# majordome Config, format version 2\nconfig.a=1\n"), InvalidArgumentError);
  EXPECT_THROW(Config::from_python("x = 1\n"), InvalidArgumentError);
}

}  // namespace
}  // namespace majordome::datastore
