#include "table.hpp"

#include <ostream>

#include "commands.hpp"

namespace alliance::ctl {
namespace {

// Code points, not bytes, so that "Zoë" takes three columns.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xc0) != 0x80) ++n;
  }
  return n;
}

std::string one_line(const std::string& cell) {
  std::string safe = terminal_safe(cell, "");
  std::string out;
  out.reserve(safe.size());
  for (char c : safe) {
    if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  for (auto& c : cells) c = one_line(c);
  rows_.push_back(std::move(cells));
}

void Table::print_line(std::ostream& out, const std::vector<std::string>& cells) const {
  std::string line;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const std::string& cell = cells[i];
    line += cell;
    std::size_t width = columns_[i].width;
    if (width == 0 || i + 1 == columns_.size()) continue;
    std::size_t used = display_width(cell);
    line.append(used < width ? width - used : 1, ' ');
  }
  out << line << "\n";
}

void Table::print(std::ostream& out) const {
  std::vector<std::string> headings;
  headings.reserve(columns_.size());
  for (const auto& c : columns_) headings.push_back(c.heading);
  print_line(out, headings);
  for (const auto& row : rows_) print_line(out, row);
}

}  // namespace alliance::ctl
