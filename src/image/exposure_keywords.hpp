// The keywords of the Exposure format (docs/formats/exposure.md) that other files reuse:
// the standalone component files written by the image formatters carry the same cards.
#pragma once

#include <string>

#include "majordome/image/box.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/header.hpp"

namespace majordome::image::detail {

// Adds the FLT_, PC_, VI_, DET_ cards of the exposure's components and MJDCOMP (the list of
// components present) to `h`.
void write_components(const Exposure& e, Header& h);
// Sets the components the cards describe on `e`; CorruptFileError naming `file` for a bad card.
void read_components(const Header& h, Exposure& e, const std::string& file);
// The cards that record a pixel HDU's xy0 (LTV1/2 and the linear WCS "A"), and back.
Header xy0_cards(Point2I xy0);
Point2I read_xy0(const Header& h);

}  // namespace majordome::image::detail
