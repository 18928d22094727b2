// Reading raw metadata for header translation from FITS files and header dumps.
//
// Sources understood:
//  * FITS files (plain or gzip-compressed, whatever the name): the primary header merged
//    with the first extension's header (extension values win; structural keywords are
//    dropped), as astro_metadata_translator does for multi-extension raws;
//  * header dumps: a daf_base PropertyList YAML (a list tagged
//    !<lsst.daf.base.PropertyList> of [KEY, Type, value, comment]); a plain YAML mapping
//    (KEY: value; a YAML list = the values of a repeated keyword); a JSON object whose
//    "__CONTENT__" is "metadata" (an already "translated" record is refused).
// Errors: missing file → NotFoundError; unreadable/malformed content → CorruptFileError
// naming the file and what was wrong.
#pragma once

#include <filesystem>

#include "majordome/image/header.hpp"

namespace majordome::instrument {

enum class HeaderFormat { kFits, kPropertyListYaml, kPlainYaml, kJson };

// Reads the header of `path`, choosing the format from the content (FITS magic, gzip
// magic, JSON '{', YAML otherwise).
image::Header read_header_file(const std::filesystem::path& path);
// As read_header_file, also reporting which format was found.
image::Header read_header_file(const std::filesystem::path& path, HeaderFormat& format);

// Parses dump text (YAML or JSON; `what` names the source in error messages).
image::Header parse_header_dump(const std::string& text, const std::string& what);

}  // namespace majordome::instrument
