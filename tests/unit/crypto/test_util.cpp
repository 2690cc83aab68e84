#include "test_util.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "alliance/core/ids.hpp"

namespace alliance::crypto::test_support {

std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    std::abort();
  };
  if (hex.size() % 2 != 0) std::abort();
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  return out;
}

TempDir::TempDir()
    : path_(std::filesystem::temp_directory_path() / ("alliance-crypto-test-" + new_id())) {
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(std::string_view name, std::string_view contents) const {
  auto file = path_ / name;
  std::ofstream out(file, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
  return file;
}

}  // namespace alliance::crypto::test_support
