// Checking FITS headers before cfitsio parses them (private).
//
// cfitsio 4.2 trusts the mandatory keywords of a header. When it reaches an image HDU it
// copies NAXIS1..NAXISn into a fixed array of 99 axes (FITSfile::imgnaxis) without looking
// at NAXIS, which the standard lets go up to 999: NAXIS = 100..103 silently overwrites the
// fields that follow (tfield, startcol, origrows, numrows, rowlength) and NAXIS >= 104
// overwrites the `tableptr` pointer, which cfitsio then dereferences: the process dies
// with SIGSEGV, in an extension just as in the primary HDU. So every header of a file is
// walked here, with plain reads and seeks, before cfitsio is given the file.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace majordome::image::detail {

// The most axes cfitsio can hold for an image HDU (the size of FITSfile::imgnaxis).
inline constexpr int kMaxCfitsioAxes = 99;

// The bytes of a FITS file: its size and a reader filling `out` from byte `offset` on,
// returning how many bytes it could read (fewer only at the end of the file).
struct FitsBytes {
  std::uint64_t size = 0;
  std::function<std::size_t(std::uint64_t offset, std::span<char> out)> read;
};

// Walks the HDUs of `bytes` (`name` names the file in messages) and throws
// CorruptFileError naming the file, the HDU and the keyword when a header is not one
// cfitsio can parse safely:
//  * the primary header must begin SIMPLE, BITPIX (8, 16, 32, 64, -32, -64), NAXIS
//    (0..99), NAXIS1..NAXISn (integers >= 0), and end with an END card;
//  * an extension header (a block beginning "XTENSION" where an HDU may start) the same,
//    with XTENSION instead of SIMPLE and integer PCOUNT >= 0 and GCOUNT >= 1;
//  * the data size the axes imply must fit in 63 bits.
// The walk ends at the end of the file, at bytes that are not an extension (cfitsio ignores
// trailing padding too), at an extension header cut short, or at a data unit that goes past
// the end of the file: cfitsio reports those two safely when they are reached.
void check_fits_structure(const FitsBytes& bytes, const std::string& name);

}  // namespace majordome::image::detail
