// FilterLabel: which filter an image was taken through.
#pragma once

#include <string>

namespace majordome::image {

// The abstract band ("r") and the instrument's physical filter ("HSC-R2"), each empty
// when unknown, as Rubin's FilterLabel. Value type.
struct FilterLabel {
  std::string band;
  std::string physical;

  bool empty() const { return band.empty() && physical.empty(); }
  friend bool operator==(const FilterLabel&, const FilterLabel&) = default;
};

}  // namespace majordome::image
