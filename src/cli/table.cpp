#include "table.hpp"

#include <algorithm>
#include <ostream>

#include "majordome/core/error.hpp"

namespace majordome::cli {

namespace {

// Columns a cell takes on a terminal: one per UTF-8 code point (continuation bytes take none).
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

}  // namespace

void Table::print(std::ostream& out, Align align) const {
  // A cell shows control characters escaped: a value cannot break a line of the table.
  auto shown = [](const std::vector<std::string>& cells) {
    std::vector<std::string> escaped;
    for (const auto& c : cells) escaped.push_back(printable(c));
    return escaped;
  };
  const std::vector<std::string> columns = shown(columns_);
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : rows_) rows.push_back(shown(row));
  std::vector<std::size_t> width(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    width[c] = display_width(columns[c]);
    for (const auto& row : rows) width[c] = std::max(width[c], c < row.size() ? display_width(row[c]) : 0);
  }
  auto emit = [&](const std::vector<std::string>& cells, bool header) {
    std::string line;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string& v = c < cells.size() ? cells[c] : std::string();
      std::string pad(width[c] - display_width(v), ' ');
      if (c) line += ' ';
      // astropy centres nothing: headers follow the column's alignment.
      line += (align == Align::kLeft || (header && align == Align::kLeft)) ? v + pad : pad + v;
    }
    if (align == Align::kLeft) line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  };
  emit(columns, true);
  std::vector<std::string> dashes;
  for (auto w : width) dashes.emplace_back(w, '-');
  emit(dashes, true);
  for (const auto& row : rows) emit(row, false);
}

}  // namespace majordome::cli
