#pragma once
// Helpers shared by the crypto tests.
#include <filesystem>
#include <string>
#include <string_view>

namespace alliance::crypto::test_support {

// Bytes from lower-case hex; aborts the test binary on malformed input (a test bug).
std::string from_hex(std::string_view hex);

// A fresh directory under the system temp dir, removed with everything in it on scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes `contents` to path()/name and returns the full path.
  std::filesystem::path write(std::string_view name, std::string_view contents) const;

 private:
  std::filesystem::path path_;
};

}  // namespace alliance::crypto::test_support
