// A registry on a fresh SQLite file, or on a fresh PostgreSQL schema when the test is
// instantiated for PostgreSQL and MAJORDOME_TEST_POSTGRES_URL names a server (make test
// starts one and sets it).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "majordome/registry/registry.hpp"

namespace majordome::registry::testing {

enum class Backend { kSqlite, kPostgres };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}

class RegistryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::random_device rd;
    suffix_ = std::to_string(rd()) + std::to_string(rd());
    if (GetParam() == Backend::kPostgres) {
      const char* url = std::getenv("MAJORDOME_TEST_POSTGRES_URL");
      if (!url || !*url) {
        // `make test` starts a server and sets MAJORDOME_TEST_STRICT: there, no server is a failure.
        if (std::getenv("MAJORDOME_TEST_STRICT")) FAIL() << "MAJORDOME_TEST_POSTGRES_URL is not set under MAJORDOME_TEST_STRICT";
        GTEST_SKIP() << "MAJORDOME_TEST_POSTGRES_URL is not set (make test sets it)";
      }
      options_.url = url;
      options_.namespace_ = "t" + suffix_;
      registry_ = Registry::create(open_postgres(options_, true), dimensions::Universe::make_default());
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("majordome-registry-" + suffix_);
      std::filesystem::create_directories(dir_);
      registry_ = Registry::create(open_sqlite((dir_ / "gen3.sqlite3").string(), true),
                                   dimensions::Universe::make_default());
    }
  }
  void TearDown() override {
    registry_.reset();
    if (GetParam() == Backend::kPostgres && !options_.namespace_.empty()) {
      auto db = open_postgres({options_.url, "", "", ""}, false);
      db->execute_script("DROP SCHEMA IF EXISTS \"" + options_.namespace_ + "\" CASCADE");
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // A second connection to the same registry (another process, in effect).
  std::unique_ptr<Registry> reopen() {
    if (GetParam() == Backend::kPostgres) return Registry::open(open_postgres(options_, false));
    return Registry::open(open_sqlite((dir_ / "gen3.sqlite3").string(), false));
  }

  Registry& r() { return *registry_; }
  std::unique_ptr<Registry> registry_;
  std::filesystem::path dir_;
  PostgresOptions options_;
  std::string suffix_;
};

}  // namespace majordome::registry::testing
