// Text tables shaped like astropy's pprint_all(), which Rubin's butler commands print.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace majordome::cli {

enum class Align { kLeft, kRight };

class Table {
 public:
  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  std::size_t size() const { return rows_.size(); }
  // Header, a line of dashes per column, then the rows; columns separated by one space.
  void print(std::ostream& out, Align align = Align::kRight) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace majordome::cli
