// Where a datastore may keep a file: the rule every path made from names (file templates,
// write journals, the trash) must pass before a file is created or removed there
// (docs/names_and_paths.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace majordome::datastore {

// The repository's private folder under the root (locks, write journals): never a
// dataset's place.
inline constexpr std::string_view kPrivateFolder = ".majordome";

// Why `path` cannot be the place of a file relative to a datastore root, or nullopt if it
// can: it must be relative, made of '/'-separated segments that are neither empty nor "."
// nor "..", hold no control character, and not start with the private folder. Such a
// path always names something strictly inside the root, whatever its segments hold.
std::optional<std::string> datastore_path_problem(std::string_view path);

}  // namespace majordome::datastore
