// Raw headers read from a WebDAV server with ranged GETs are the headers a local read gives,
// for the layouts raws come in; malformed headers are refused as such. Against the server
// `make test` starts (scripts/webdav-test-server; MAJORDOME_TEST_WEBDAV_URL/_DIR).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/datastore/resource.hpp"
#include "majordome/datastore/webdav.hpp"
#include "majordome/instrument/header_source.hpp"
#include "webdav_test_server.hpp"

namespace mi = majordome::instrument;
namespace md = majordome::datastore;
namespace fs = std::filesystem;

namespace {

std::string card(const std::string& key, const std::string& value) {
  std::string c = fmt::format("{:<8}= {:>20}", key, value);
  c.resize(80, ' ');
  return c;
}

// Cards, END, padded to whole 2880-byte blocks.
std::string header(const std::vector<std::string>& cards) {
  std::string h;
  for (const auto& c : cards) h += c;
  h += std::string("END").append(77, ' ');
  h.resize((h.size() + 2879) / 2880 * 2880, ' ');
  return h;
}

std::string data(std::size_t bytes) { return std::string((bytes + 2879) / 2880 * 2880, '\x01'); }

class RemoteHeader : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto server = majordome::testing::test_webdav();
    if (!server) {
      if (std::getenv("MAJORDOME_TEST_STRICT")) FAIL() << "MAJORDOME_TEST_WEBDAV_URL is not set under MAJORDOME_TEST_STRICT";
      GTEST_SKIP() << "no WebDAV server (make test starts one: scripts/webdav-test-server)";
    }
    md::set_http_settings(majordome::testing::test_webdav_settings(*server));
    base_ = md::ResourcePath::parse(server->url).join(fmt::format("headers-{:016x}/", std::random_device{}()));
    local_ = fs::temp_directory_path() / fmt::format("majordome-headers-{:016x}", std::random_device{}());
    fs::create_directories(local_);
  }
  void TearDown() override {
    if (local_.empty()) return;
    fs::remove_all(local_);
    md::set_http_settings({});
  }
  // The file both on the server and on disk: {remote URI, local path}.
  std::pair<std::string, fs::path> put(const std::string& name, const std::string& bytes) {
    md::write_resource(bytes, base_.join(name));
    std::ofstream(local_ / name, std::ios::binary) << bytes;
    return {base_.join(name).uri(), local_ / name};
  }
  md::ResourcePath base_;
  fs::path local_;
};

TEST_F(RemoteHeader, MatchesTheLocalReadForEveryLayout) {
  const std::vector<std::string> primary{card("SIMPLE", "T"), card("BITPIX", "16"), card("NAXIS", "0"),
                                         card("EXTEND", "T"), card("INSTRUME", "'ComCam'"), card("SEQNUM", "12")};
  const std::vector<std::string> image{card("XTENSION", "'IMAGE'"), card("BITPIX", "16"), card("NAXIS", "2"),
                                       card("NAXIS1", "100"), card("NAXIS2", "300"), card("PCOUNT", "0"),
                                       card("GCOUNT", "1"), card("EXTNAME", "'Segment10'"), card("DETSIZE", "7")};
  // The usual raw: an empty primary HDU, then the amplifiers.
  const auto usual = header(primary) + header(image) + data(60000) + header(image) + data(60000);
  // A primary HDU with pixels before the first extension (its data are skipped, not fetched).
  std::vector<std::string> with_data{card("SIMPLE", "T"), card("BITPIX", "-32"), card("NAXIS", "2"),
                                     card("NAXIS1", "1000"), card("NAXIS2", "1000"), card("EXTEND", "T"),
                                     card("INSTRUME", "'ComCam'")};
  const auto pixels_first = header(with_data) + data(4000000) + header(image) + data(60000);
  // A primary header longer than the first read (400 cards), and no extension at all.
  std::vector<std::string> many = primary;
  for (int i = 0; i < 400; ++i) many.push_back(card(fmt::format("KEY{}", i), std::to_string(i)));
  const auto long_single = header(many);
  for (const auto& [name, bytes] :
       {std::pair{"usual.fits", usual}, {"pixels_first.fits", pixels_first}, {"long_single.fits", long_single}}) {
    const auto [remote, local] = put(name, bytes);
    const auto before = md::http_counters().bytes_received;
    EXPECT_EQ(mi::read_header_file(remote), mi::read_header_file(local)) << name;
    EXPECT_LT(md::http_counters().bytes_received - before, 64U * 1024U) << name << ": fetched more than the headers";
  }
  const auto h = mi::read_header_file(put("x.fits", pixels_first).first);
  EXPECT_EQ(h.get_int("DETSIZE"), 7);  // from the extension, past 4 MB of primary pixels
}

TEST_F(RemoteHeader, RefusesHeadersThatDescribeNoFile) {
  const std::string start = card("SIMPLE", "T") + card("BITPIX", "16");
  auto expect_corrupt = [&](const std::string& name, const std::string& bytes, const std::string& what) {
    try {
      mi::read_header_file(put(name, bytes).first);
      ADD_FAILURE() << name << " was read";
    } catch (const majordome::CorruptFileError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();  // names the file
    }
  };
  expect_corrupt("no_naxis.fits", header({card("SIMPLE", "T"), card("BITPIX", "16")}) + header({}), "NAXIS");
  expect_corrupt("huge.fits",
                 header({card("SIMPLE", "T"), card("BITPIX", "64"), card("NAXIS", "3"), card("NAXIS1", "4000000000"),
                         card("NAXIS2", "4000000000"), card("NAXIS3", "4000000000")}),
                 "NAXIS");
  expect_corrupt("bitpix.fits", header({card("SIMPLE", "T"), card("BITPIX", "12"), card("NAXIS", "0")}) + header({}),
                 "BITPIX");
  expect_corrupt("cut.fits", (card("SIMPLE", "T") + card("BITPIX", "16") + card("NAXIS", "0")), "END");
}

}  // namespace
