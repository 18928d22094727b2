// Long where-expressions end to end (parse, bind, SQL, database) on SQLite and PostgreSQL:
// flat chains of OR/AND with tens of thousands of terms run, real nesting is refused.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "../registry/registry_fixture.hpp"
#include "majordome/core/error.hpp"
#include "majordome/query/query.hpp"

namespace majordome::query {
namespace {

using dimensions::DimensionRecord;
using dimensions::FieldValue;
using registry::testing::Backend;
using registry::testing::RegistryTest;

class LongWhere : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const auto& u = r().universe();
    r().insert_records("instrument", {DimensionRecord(u.get("instrument"),
                                                      {std::string("Cam1"), std::int64_t{1024}, std::int64_t{1},
                                                       std::int64_t{512}, std::int64_t{8},
                                                       std::string("lsst.pipe.base.Instrument")})});
    std::vector<DimensionRecord> detectors;
    for (int i = 0; i < 8; ++i)
      detectors.emplace_back(u.get("detector"),
                             std::vector<FieldValue>{std::string("Cam1"), std::int64_t{i}, "D" + std::to_string(i),
                                                     std::string("D"), std::to_string(i), std::string("SCIENCE")});
    r().insert_records("detector", detectors);
  }

  std::vector<std::int64_t> detectors(const std::string& where) {
    std::vector<std::int64_t> ids;
    for (const auto& rec : query_dimension_records(r(), "detector", where, {}, {}))
      ids.push_back(std::get<std::int64_t>(rec.get("id")));
    return ids;
  }

  // detector = 1000 OR detector = 1001 OR … (`terms` terms matching nothing) with the
  // detectors 2 and 5 somewhere in the middle, joined by `op`.
  static std::string chain(int terms, const std::string& op) {
    std::string out;
    for (int i = 0; i < terms; ++i) {
      const int id = i == terms / 3 ? 2 : i == terms / 2 ? 5 : 1000 + i;
      out += (i ? op : "") + ("detector = " + std::to_string(id));
    }
    return out;
  }
};

TEST_P(LongWhere, FlatOrChainsOfTensOfThousandsOfTermsRun) {
  for (int terms : {5'000, 20'000, 50'000}) {
    SCOPED_TRACE(terms);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(detectors("instrument = 'Cam1' AND (" + chain(terms, " OR ") + ")"), (std::vector<std::int64_t>{2, 5}));
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("[ timing   ] %s: %d-term OR chain in %.2f s\n", GetParam() == Backend::kSqlite ? "SQLite" : "PostgreSQL",
                terms, took.count());
    EXPECT_LT(took.count(), 60.0 * MAJORDOME_TEST_SLOWDOWN);
  }
}

TEST_P(LongWhere, FlatAndChainsRun) {
  std::string where = "instrument = 'Cam1'";
  for (int i = 0; i < 20'000; ++i) where += " AND detector != " + std::to_string(1000 + i);
  EXPECT_EQ(detectors(where + " AND detector < 3"), (std::vector<std::int64_t>{0, 1, 2}));
  // NOT over a long chain, and chains inside chains.
  EXPECT_EQ(detectors("NOT (" + chain(20'000, " OR ") + ") AND detector < 4"), (std::vector<std::int64_t>{0, 1, 3}));
  std::string nested;
  for (int i = 0; i < 2'000; ++i)
    nested += (i ? " OR " : "") + ("(detector = " + std::to_string(i % 2 ? 1000 + i : 7) + " AND instrument = 'Cam1')");
  EXPECT_EQ(detectors(nested), (std::vector<std::int64_t>{7}));
}

TEST_P(LongWhere, RealNestingIsStillAClearError) {
  const std::string deep = std::string(10'000, '(') + "detector = 1" + std::string(10'000, ')');
  try {
    detectors(deep);
    ADD_FAILURE() << "no error";
  } catch (const InvalidQueryError& e) {
    EXPECT_NE(std::string(e.what()).find("nested too deeply"), std::string::npos) << e.what();
  }
  EXPECT_EQ(detectors(std::string(400, '(') + "detector = 1" + std::string(400, ')')), (std::vector<std::int64_t>{1}));
}

INSTANTIATE_TEST_SUITE_P(Backends, LongWhere, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         registry::testing::backend_name);

}  // namespace
}  // namespace majordome::query
