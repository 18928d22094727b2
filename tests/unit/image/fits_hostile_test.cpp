// Hostile FITS headers: FitsFile must refuse them with CorruptFileError naming the file, the
// HDU and the keyword, before cfitsio parses them (cfitsio 4.2 overruns its memory and dies
// with SIGSEGV on an image header with NAXIS >= 104, and corrupts it silently from 100).
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "majordome/core/error.hpp"
#include "majordome/image/fits_file.hpp"
#include "test_support.hpp"

namespace majordome::image {
namespace {

std::string card(const std::string& keyword, const std::string& value) {
  std::string c = keyword;
  c.resize(8, ' ');
  c += "= ";
  c += std::string(value.size() < 20 ? 20 - value.size() : 0, ' ') + value;
  c.resize(80, ' ');
  return c;
}

std::string end_card() {
  std::string c = "END";
  c.resize(80, ' ');
  return c;
}

std::string padded(std::string bytes, char fill) {
  bytes.resize((bytes.size() + 2879) / 2880 * 2880, fill);
  return bytes;
}

// A header of `cards` plus END, padded to whole blocks, followed by `data_bytes` zero bytes
// padded to whole blocks.
std::string hdu(const std::vector<std::string>& cards, std::size_t data_bytes = 0) {
  std::string header;
  for (const auto& c : cards) header += c;
  header += end_card();
  return padded(header, ' ') + padded(std::string(data_bytes, '\0'), '\0');
}

std::vector<std::string> image_cards(const std::string& first, int bitpix, const std::vector<long>& axes) {
  std::vector<std::string> cards{first, card("BITPIX", std::to_string(bitpix)), card("NAXIS", std::to_string(axes.size()))};
  for (std::size_t i = 0; i < axes.size(); ++i) cards.push_back(card("NAXIS" + std::to_string(i + 1), std::to_string(axes[i])));
  return cards;
}

std::vector<std::string> primary(const std::vector<long>& axes, int bitpix = 8) {
  return image_cards(card("SIMPLE", "T"), bitpix, axes);
}

std::vector<std::string> extension(const std::vector<long>& axes) {
  auto cards = image_cards(card("XTENSION", "'IMAGE   '"), 8, axes);
  cards.push_back(card("PCOUNT", "0"));
  cards.push_back(card("GCOUNT", "1"));
  return cards;
}

class HostileFits : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    const auto path = dir_ / name;
    testing::write_bytes(path, bytes);
    return path;
  }

  // Opening `path` and reading all of it must fail with CorruptFileError naming the file
  // and holding every one of `words`.
  void expect_refused(const std::filesystem::path& path, const std::vector<std::string>& words) {
    SCOPED_TRACE(path.filename().string());
    try {
      FitsFile f(path, FitsMode::kRead);
      const int n = f.hdu_count();
      for (int i = 0; i < n; ++i) {
        f.move_to(i);
        f.read_header();
        if (f.hdu_type() == HduType::kImage) f.image_info();
      }
      ADD_FAILURE() << "read without error";
    } catch (const CorruptFileError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path.string()), std::string::npos) << what;
      for (const auto& w : words) EXPECT_NE(what.find(w), std::string::npos) << "'" << w << "' not in: " << what;
    }
  }

  testing::ScratchDir dir_;
};

TEST_F(HostileFits, TooManyAxesInThePrimaryHeaderIsRefusedNotACrash) {
  for (int naxis : {100, 103, 104, 120, 999}) {
    const auto path = write("naxis" + std::to_string(naxis) + ".fits", hdu(primary(std::vector<long>(naxis, 1)), 1));
    expect_refused(path, {"HDU 0", "NAXIS = " + std::to_string(naxis), "at most 99"});
  }
}

TEST_F(HostileFits, NinetyNineAxesAreWhatCfitsioHolds) {
  const auto path = write("naxis99.fits", hdu(primary(std::vector<long>(99, 1)), 1));
  FitsFile f(path, FitsMode::kRead);
  EXPECT_EQ(f.image_info().shape.size(), 99U);
}

TEST_F(HostileFits, ValuesAreReadUpToTheirComment) {
  // As in real LSSTComCam raws: an apostrophe in the comment of an integer.
  std::string naxis1 = card("NAXIS1", "4");
  naxis1.replace(31, 24, "/ size of the n'th axis ");
  const auto path = write("comment.fits", hdu({card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "1"), naxis1,
                                              card("OBJECT", "'it''s / not'")},
                                             4));
  FitsFile f(path, FitsMode::kRead);
  EXPECT_EQ(f.image_info().shape, (std::vector<long>{4}));
  EXPECT_EQ(f.read_header().get_string("OBJECT"), "it's / not");
}

TEST_F(HostileFits, TooManyAxesInAnExtensionIsRefusedAtOpen) {
  const std::string first = hdu({card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "0"), card("EXTEND", "T")});
  for (int naxis : {104, 200}) {
    const auto path = write("ext" + std::to_string(naxis) + ".fits",
                            first + hdu(extension({2, 2}), 4) + hdu(extension(std::vector<long>(naxis, 1)), 1));
    try {
      FitsFile f(path, FitsMode::kRead);
      ADD_FAILURE() << path << " opened";
    } catch (const CorruptFileError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path.string() + ": HDU 2: NAXIS = " + std::to_string(naxis)), std::string::npos) << what;
    }
  }
  // An extension header cut short before its END still has its axis count checked.
  const std::string cut = hdu(extension(std::vector<long>(150, 1))).substr(0, 2 * 2880);
  expect_refused(write("ext_cut.fits", first + cut), {"HDU 1", "NAXIS = 150"});
}

TEST_F(HostileFits, InvalidMandatoryKeywordsNameTheKeyword) {
  expect_refused(write("naxis_neg.fits", hdu({card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "-1")})),
                 {"HDU 0", "NAXIS = -1"});
  expect_refused(write("bitpix7.fits", hdu(primary({}, 7))), {"BITPIX = 7"});
  expect_refused(write("naxis1_neg.fits", hdu(primary({-5, 3}))), {"NAXIS1 = -5"});
  expect_refused(write("naxis1_text.fits", hdu({card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "1"),
                                               card("NAXIS1", "'wide'")})),
                 {"NAXIS1", "not an integer"});
  expect_refused(write("naxis2_missing.fits", hdu({card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "2"),
                                                  card("NAXIS1", "1"), card("EXTEND", "T")})),
                 {"NAXIS2 is missing", "EXTEND"});
  expect_refused(write("simple_garbled.fits", hdu({card("SIMPLE", "X"), card("BITPIX", "8"), card("NAXIS", "0")})),
                 {"SIMPLE"});
  expect_refused(write("no_bitpix.fits", hdu({card("SIMPLE", "T"), card("NAXIS", "0")})), {"BITPIX is missing"});
  // Axis lengths whose product passes 2^63 bytes, in the primary HDU and in an extension.
  expect_refused(write("huge.fits", hdu(primary({4611686018427387904L, 4611686018427387904L}))),
                 {"HDU 0", "NAXIS1 = 4611686018427387904", "2^63"});
  const std::string first = hdu({card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "0")});
  expect_refused(write("ext_huge.fits", first + hdu(extension({4611686018427387904L, 4}))), {"HDU 1", "2^63"});
  // No END before the end of the file.
  std::string no_end = hdu(primary({}));
  no_end.replace(no_end.find("END "), 3, "XND");
  expect_refused(write("no_end.fits", no_end), {"END"});
}

TEST_F(HostileFits, EmptyTruncatedAndNonFitsFiles) {
  expect_refused(write("empty.fits", ""), {"empty"});
  expect_refused(write("text.fits", std::string(6000, 'x')), {"not a FITS file"});
  const std::string good = hdu(primary({100, 100}, 16), 20000);
  expect_refused(write("cut_header.fits", good.substr(0, 1000)), {"truncated"});
  // Data cut short: the header is fine, the pixels are what is missing.
  const auto cut_data = write("cut_data.fits", good.substr(0, 2880 + 5000));
  FitsFile f(cut_data, FitsMode::kRead);
  EXPECT_EQ(f.image_info().shape, (std::vector<long>{100, 100}));
  EXPECT_THROW(f.read_image<float>(), CorruptFileError);
}

TEST_F(HostileFits, TrailingPaddingAfterTheLastHduIsIgnored) {
  const auto path = write("padding.fits", hdu(primary({2, 2}), 4) + std::string(2880, '\0'));
  FitsFile f(path, FitsMode::kRead);
  EXPECT_EQ(f.hdu_count(), 1);
}

TEST_F(HostileFits, RandomGroupsAreWalkedPastTheirData) {
  // NAXIS1 = 0 with GROUPS = T: the data are GCOUNT * (PCOUNT + NAXIS2) values (two blocks
  // here, where the product of all axes would give none): the hostile extension after them
  // must still be found.
  std::vector<std::string> cards = primary({0, 3000});
  cards.push_back(card("GROUPS", "T"));
  cards.push_back(card("PCOUNT", "0"));
  cards.push_back(card("GCOUNT", "1"));
  cards.push_back(card("EXTEND", "T"));
  const auto path = write("groups.fits", hdu(cards, 3000) + hdu(extension(std::vector<long>(120, 1)), 1));
  expect_refused(path, {"HDU 1", "NAXIS = 120"});
}

std::filesystem::path gzip(const std::filesystem::path& path, const std::string& bytes) {
  gzFile out = gzopen(path.c_str(), "wb");
  EXPECT_NE(out, nullptr);
  EXPECT_EQ(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(out);
  return path;
}

TEST_F(HostileFits, GzipCompressedFilesAreCheckedToo) {
  expect_refused(gzip(dir_ / "naxis120.fits.gz", hdu(primary(std::vector<long>(120, 1)), 1)),
                 {"HDU 0", "NAXIS = 120"});
  const std::string first = hdu({card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "0")});
  expect_refused(gzip(dir_ / "ext120.fits.gz", first + hdu(extension(std::vector<long>(120, 1)), 1)),
                 {"HDU 1", "NAXIS = 120"});
  expect_refused(gzip(dir_ / "empty.fits.gz", ""), {"empty"});
  expect_refused(gzip(dir_ / "text.fits.gz", std::string(6000, 'x')), {"not a FITS file"});
  // A good one reads, header and pixels, and cannot be opened for writing.
  std::vector<std::string> cards = primary({3, 2}, 16);
  cards.push_back(card("OBJECT", "'gz'"));
  const auto good = gzip(dir_ / "good.fits.gz", hdu(cards, 12));
  FitsFile f(good, FitsMode::kRead);
  EXPECT_EQ(f.read_header().get_string("OBJECT"), "gz");
  EXPECT_EQ(f.read_image<float>().width(), 3);
  EXPECT_THROW(FitsFile(good, FitsMode::kReadWrite), UnsupportedError);
  // A gzip stream cut short.
  const std::string bytes = testing::read_bytes(good);
  expect_refused(write("cut.fits.gz", bytes.substr(0, bytes.size() / 2)), {"gzip"});
}

TEST_F(HostileFits, OtherWholeFileCompressionsAreUnsupported) {
  const auto path = write("bz.fits", "BZh91AY&SY" + std::string(3000, 'x'));
  EXPECT_THROW(FitsFile(path, FitsMode::kRead), UnsupportedError);
}

}  // namespace
}  // namespace majordome::image
