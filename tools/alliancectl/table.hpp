#pragma once
// alliancectl's one way to print a list: a heading line and rows in fixed-width
// columns, each cell made safe for a terminal.
#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace alliance::ctl {

class Table {
 public:
  struct Column {
    std::string heading;
    std::size_t width = 0;  // in characters (UTF-8 code points); the last column is never padded
  };

  explicit Table(std::vector<Column> columns);

  // One row, a cell per column (missing cells print empty, extra cells are dropped).
  // Cells may hold text written by someone else: control characters and newlines are
  // printed as escapes ("\x1b", "\n"), so a row stays one line and cannot drive the terminal.
  void add(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  // The heading and every row, each line ending in "\n". A cell is padded to its
  // column's width; one that fills or overflows it is followed by a single space so
  // that columns never run together.
  void print(std::ostream& out) const;

 private:
  void print_line(std::ostream& out, const std::vector<std::string>& cells) const;

  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace alliance::ctl
