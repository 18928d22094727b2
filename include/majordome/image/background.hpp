// BackgroundList: the sky background of an image as a list of models whose sum is the
// background (Rubin's afw BackgroundList, storage class `Background`).
//
// A BackgroundModel is the background measured in a grid of nx × ny bins over the image's
// bounding box, interpolated between the bin centres to every pixel. Bin i of nx along x
// covers the columns [x0 + ⌊i·W/nx⌋, x0 + ⌊(i+1)·W/nx⌋) (the same along y), and its centre
// is the middle of those pixels. evaluate() interpolates each row of bins along x, then
// every column of the result along y, with the model's interpolation style; beyond the
// outermost bin centres the curve continues as a straight line with its end slope.
// Styles that need more bins than the grid has fall back to the next simpler one
// (Akima: 5, natural spline: 3, linear: 2; Rubin's REDUCE_INTERP_ORDER).
//
// File: docs/formats/storage_classes.md, "Background" (FITS, one values HDU and one
// optional variance HDU per model). Value types; thread-compatible.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "majordome/image/box.hpp"
#include "majordome/image/image.hpp"

namespace majordome::image {

inline constexpr int kBackgroundFormatVersion = 1;

enum class BackgroundInterpolation { kConstant, kLinear, kNaturalSpline, kAkimaSpline };

// Rubin's names: "CONSTANT", "LINEAR", "NATURAL_SPLINE", "AKIMA_SPLINE".
std::string_view background_interpolation_name(BackgroundInterpolation style);
std::optional<BackgroundInterpolation> find_background_interpolation(std::string_view name);

struct BackgroundModel {
  // The image pixels the model covers (parent coordinates).
  Box2I bbox;
  // The background of each bin: nx × ny pixels, bin (i, j) at local (i, j); xy0 unused.
  Image<float> values;
  // The variance of each bin's value, the same size as `values`, or empty when unknown.
  Image<float> variance;
  BackgroundInterpolation interpolation = BackgroundInterpolation::kAkimaSpline;

  // The pixels of bin (i, j). REQUIRES 0 ≤ i < nx, 0 ≤ j < ny.
  Box2I bin_box(int i, int j) const;
  // The background at every pixel of bbox (an image covering bbox). InvalidArgumentError
  // when the model has no bins, more bins than pixels, or a variance of another size.
  Image<float> evaluate() const;

  friend bool operator==(const BackgroundModel& a, const BackgroundModel& b);
};

class BackgroundList {
 public:
  BackgroundList() = default;
  explicit BackgroundList(std::vector<BackgroundModel> models) : models_(std::move(models)) {}

  void append(BackgroundModel model) { models_.push_back(std::move(model)); }
  const std::vector<BackgroundModel>& models() const { return models_; }
  std::size_t size() const { return models_.size(); }
  bool empty() const { return models_.empty(); }

  // The sum of every model's evaluate(). InvalidArgumentError when the list is empty or
  // the models cover different boxes.
  Image<float> evaluate() const;

  friend bool operator==(const BackgroundList&, const BackgroundList&) = default;

 private:
  std::vector<BackgroundModel> models_;
};

// Writes `list` to a new file at `path` (not atomically: for a formatter writing to the
// datastore's temporary name). ConflictError if it exists, IoError, InvalidArgumentError
// for a model without bins or with a variance of another size.
void write_background_file(const std::filesystem::path& path, const BackgroundList& list);
// Reads such a file. NotFoundError, CorruptFileError naming the file (not a Background
// file, a newer format version, a missing or bad keyword).
BackgroundList read_background(const std::filesystem::path& path);

}  // namespace majordome::image
