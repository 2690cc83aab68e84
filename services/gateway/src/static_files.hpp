#pragma once
// The front desk console's files (config console_dir), read once at start and served
// from memory under /console/. Only regular files with a known type are loaded, and
// a request is answered only for a name that was loaded, spelled exactly: "..",
// percent-encoded or otherwise, never reaches the file system, and a symbolic link
// in the folder is never followed. Immutable after load(), so the gateway's I/O
// thread reads it without locks.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "alliance/core/result.hpp"
#include "http_types.hpp"

namespace alliance::gateway {

class StaticFiles {
 public:
  static constexpr std::string_view kMount = "/console";
  static constexpr std::size_t kMaxTotalBytes = 32u << 20;  // the console is a few hundred KiB

  // Loads the regular files under `dir` (subfolders too). Symbolic links and files of
  // an unknown type are left out (logged); a folder without index.html is an error.
  static Result<StaticFiles> load(const std::filesystem::path& dir);

  // True for a path the console answers (kMount itself or below it).
  static bool owns(std::string_view path);
  // The answer for GET `path` (owns(path) must hold): the file with its headers, a 304
  // when `if_none_match` names its ETag, a redirect from kMount to kMount + "/", a 405
  // for another method, or a 404.
  HttpReply serve(std::string_view method, std::string_view path, std::string_view if_none_match) const;

  std::size_t files() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string etag;  // a strong validator: "\"" + hex of the content's hash + "\""
    std::string body;
  };
  std::unordered_map<std::string, File> files_;  // by path below kMount: "/index.html"
};

}  // namespace alliance::gateway
