#include "table.hpp"

#include <algorithm>
#include <ostream>

namespace majordome::cli {

void Table::print(std::ostream& out, Align align) const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    width[c] = columns_[c].size();
    for (const auto& row : rows_) width[c] = std::max(width[c], c < row.size() ? row[c].size() : 0);
  }
  auto emit = [&](const std::vector<std::string>& cells, bool header) {
    std::string line;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string& v = c < cells.size() ? cells[c] : std::string();
      std::string pad(width[c] - v.size(), ' ');
      if (c) line += ' ';
      // astropy centres nothing: headers follow the column's alignment.
      line += (align == Align::kLeft || (header && align == Align::kLeft)) ? v + pad : pad + v;
    }
    if (align == Align::kLeft) line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  emit(columns_, true);
  std::vector<std::string> dashes;
  for (auto w : width) dashes.emplace_back(w, '-');
  emit(dashes, true);
  for (const auto& row : rows_) emit(row, false);
}

}  // namespace majordome::cli
