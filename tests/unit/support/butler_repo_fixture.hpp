// A temporary repository on SQLite or PostgreSQL (the test's parameter), or on the WebDAV
// server make test starts with its registry in PostgreSQL, with one instrument, two
// detectors, one physical filter and a visit/exposure, for tests that put and get datasets
// through the Butler.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "majordome/butler/butler.hpp"
#include "majordome/datastore/resource.hpp"
#include "majordome/datastore/webdav.hpp"
#include "webdav_test_server.hpp"
#include "majordome/registry/database.hpp"

namespace majordome::testing {

enum class Backend { kSqlite, kPostgres, kWebDav };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : info.param == Backend::kPostgres ? "postgres" : "webdav";
}

class ButlerRepoTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::random_device rd;
    suffix_ = std::to_string(rd()) + std::to_string(rd());
    dir_ = std::filesystem::temp_directory_path() / ("majordome-repo-" + suffix_);
    std::filesystem::create_directories(dir_);
    root_ = dir_ / "repo";
    butler::CreateOptions options;
    if (GetParam() == Backend::kWebDav) {
      const auto server = test_webdav();
      if (!server) {
        if (std::getenv("MAJORDOME_TEST_STRICT")) FAIL() << "MAJORDOME_TEST_WEBDAV_URL is not set under MAJORDOME_TEST_STRICT";
        GTEST_SKIP() << "MAJORDOME_TEST_WEBDAV_URL is not set (make test sets it)";
      }
      datastore::set_http_settings(test_webdav_settings(*server));
      served_ = server->dir / "root" / ("repo-" + suffix_);
      root_ = server->url + "repo-" + suffix_;
    }
    if (GetParam() == Backend::kPostgres || GetParam() == Backend::kWebDav) {
      const char* url = std::getenv("MAJORDOME_TEST_POSTGRES_URL");
      if (!url || !*url) {
        if (std::getenv("MAJORDOME_TEST_STRICT")) FAIL() << "MAJORDOME_TEST_POSTGRES_URL is not set under MAJORDOME_TEST_STRICT";
        GTEST_SKIP() << "MAJORDOME_TEST_POSTGRES_URL is not set (make test sets it)";
      }
      url_ = url;
      schema_ = "b" + suffix_;
      options.seed_config = dir_ / "seed.yaml";
      std::ofstream(*options.seed_config) << "registry:\n  db: " << url_ << "\n  namespace: " << schema_ << "\n";
    }
    butler::Butler::create(root_, options);
  }

  void TearDown() override {
    if (!schema_.empty()) {
      auto db = registry::open_postgres({url_, "", "", ""}, false);
      db->execute_script("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE");
    }
    std::filesystem::remove_all(dir_);
    if (!served_.empty()) {
      std::filesystem::remove_all(served_);
      datastore::set_http_settings({});
    }
  }

  // Opens the repository with `formatters`, filling its dimension records on first use.
  std::unique_ptr<butler::Butler> open(std::shared_ptr<const datastore::FormatterRegistry> formatters = nullptr) {
    auto b = butler::Butler::open(root_, butler::Access::kReadWrite, std::move(formatters));
    if (!filled_) {
      fill(*b);
      filled_ = true;
    }
    return b;
  }

  static void fill(butler::Butler& b) {
    using dimensions::DimensionRecord;
    using dimensions::FieldValue;
    auto& r = b.registry();
    const auto& u = r.universe();
    r.insert_records("instrument", {DimensionRecord(u.get("instrument"), {std::string("Cam1"), std::int64_t{10},
                                                                          std::int64_t{0}, std::int64_t{10},
                                                                          std::int64_t{4}, std::string("x")})});
    std::vector<DimensionRecord> dets;
    for (std::int64_t d = 1; d <= 2; ++d)
      dets.emplace_back(u.get("detector"), std::vector<FieldValue>{std::string("Cam1"), d, "D" + std::to_string(d),
                                                                   std::monostate{}, std::monostate{},
                                                                   std::string("SCIENCE")});
    r.insert_records("detector", dets);
  }

  // The file a dataset URI names (file:// or davs://), as a user would look at it.
  static std::string stored_bytes(const std::string& uri) {
    return datastore::read_resource(datastore::ResourcePath::parse(uri));
  }
  static bool stored_exists(const std::string& uri) {
    return datastore::stat_resource(datastore::ResourcePath::parse(uri)).exists;
  }
  static void replace_stored(const std::string& uri, const std::string& bytes) {
    datastore::write_resource(bytes, datastore::ResourcePath::parse(uri), datastore::Overwrite::kReplace);
  }
  static void remove_stored(const std::string& uri) { datastore::remove_resource(datastore::ResourcePath::parse(uri)); }
  // Files of the datastore (on disk or on the server), the repository's own aside.
  std::vector<std::filesystem::path> data_files() const {
    std::vector<std::filesystem::path> out;
    const auto top = served_.empty() ? root_ : served_;
    if (!std::filesystem::exists(top)) return out;
    for (auto it = std::filesystem::recursive_directory_iterator(top); it != std::filesystem::recursive_directory_iterator();
         ++it) {
      if (it->path().filename() == ".majordome") {
        it.disable_recursion_pending();
        continue;
      }
      auto name = it->path().filename().string();
      if (it->is_regular_file() && name != "butler.yaml" && name.rfind("gen3.sqlite3", 0) != 0) out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::filesystem::path dir_, root_;
  std::filesystem::path served_;  // kWebDav: the folder the server serves as the repository
  std::string url_, schema_, suffix_;
  bool filled_ = false;
};

}  // namespace majordome::testing
