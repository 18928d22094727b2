#include "majordome/datastore/datastore_path.hpp"

#include "majordome/core/error.hpp"

namespace majordome::datastore {

std::optional<std::string> datastore_path_problem(std::string_view path) {
  if (path.empty()) return "it is empty";
  if (path.front() == '/') return "it is absolute";
  if (!is_valid_utf8(path)) return "it is not valid UTF-8";
  if (has_control_characters(path)) return "it holds a control character";
  std::size_t begin = 0;
  for (bool first = true;; first = false) {
    auto end = path.find('/', begin);
    std::string_view segment = path.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
    if (segment.empty()) return "it has an empty part ('//' or a trailing '/')";
    if (segment == "." || segment == "..") return "it has a '.' or '..' part";
    if (first && segment == kPrivateFolder) return "it is inside the repository's private folder .majordome";
    if (end == std::string_view::npos) return std::nullopt;
    begin = end + 1;
  }
}

}  // namespace majordome::datastore
