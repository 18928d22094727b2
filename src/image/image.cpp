#include "majordome/image/image.hpp"

#include <string>

#include "majordome/core/error.hpp"

namespace majordome::image {

namespace detail {

void throw_outside(const Box2I& outer, const std::string& what) {
  throw InvalidArgumentError(what + " is outside the image " + outer.str());
}

void throw_dimension_mismatch(Extent2I a, Extent2I b, const char* what) {
  throw InvalidArgumentError(std::string("cannot ") + what + " images of different dimensions (" +
                             std::to_string(a.width) + "x" + std::to_string(a.height) + " and " +
                             std::to_string(b.width) + "x" + std::to_string(b.height) + ")");
}

void check_dimensions(Extent2I dims) {
  if (dims.width < 0 || dims.height < 0) {
    throw InvalidArgumentError("image dimensions must not be negative (" +
                               std::to_string(dims.width) + "x" + std::to_string(dims.height) +
                               ")");
  }
}

}  // namespace detail

template class Image<float>;
template class Image<double>;
template class Image<std::int32_t>;
template class Image<std::uint16_t>;
template class Image<std::uint32_t>;

}  // namespace majordome::image
