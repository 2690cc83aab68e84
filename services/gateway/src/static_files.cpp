#include "static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/crypto/encoding.hpp"

namespace alliance::gateway {
namespace {

namespace fs = std::filesystem;

struct TypeByExtension {
  std::string_view extension;
  std::string_view content_type;
};
constexpr std::array kTypes{
    TypeByExtension{".html", "text/html; charset=utf-8"},
    TypeByExtension{".js", "text/javascript; charset=utf-8"},
    TypeByExtension{".mjs", "text/javascript; charset=utf-8"},
    TypeByExtension{".css", "text/css; charset=utf-8"},
    TypeByExtension{".json", "application/json"},
    TypeByExtension{".svg", "image/svg+xml"},
    TypeByExtension{".png", "image/png"},
    TypeByExtension{".ico", "image/x-icon"},
    TypeByExtension{".txt", "text/plain; charset=utf-8"},
    TypeByExtension{".woff2", "font/woff2"},
};

std::optional<std::string_view> content_type_of(const fs::path& file) {
  const auto ext = file.extension().string();
  for (const auto& t : kTypes)
    if (t.extension == ext) return t.content_type;
  return std::nullopt;
}

// Scripts, styles and connections only from the gateway itself; no inline script or
// style, no plugins, and no page may frame the console (clickjacking).
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

// Reads a regular file without following a symbolic link, even one swapped in after
// the folder was listed.
Result<std::string> read_regular_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return make_error(Code::kFailedPrecondition, path.string() + ": " + std::strerror(errno));
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  const bool fits = regular && static_cast<std::size_t>(st.st_size) <= StaticFiles::kMaxTotalBytes;
  std::string body;
  if (fits) {
    body.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < body.size()) {
      auto n = ::read(fd, body.data() + done, body.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    body.resize(done);
  }
  ::close(fd);
  if (!regular) return make_error(Code::kFailedPrecondition, path.string() + ": not a regular file");
  if (!fits)
    return make_error(Code::kFailedPrecondition,
                      path.string() + " is larger than " + std::to_string(StaticFiles::kMaxTotalBytes) + " bytes");
  return body;
}

HttpReply plain(int status, std::string_view text) {
  HttpReply r{status, "text/plain; charset=utf-8", std::string(text), {}};
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace

Result<StaticFiles> StaticFiles::load(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return invalid_argument("console_dir", dir.string() + " is not a folder");
  StaticFiles out;
  std::size_t total = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return invalid_argument("console_dir", dir.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return invalid_argument("console_dir", dir.string() + ": " + ec.message());
    const auto& entry = *it;
    const auto relative = entry.path().lexically_relative(dir).generic_string();
    if (entry.is_symlink(ec)) {
      log::warn("console file is a symbolic link; not served", {{"file", relative}});
      continue;
    }
    if (entry.is_directory(ec)) continue;
    auto type = content_type_of(entry.path());
    if (!type || !entry.is_regular_file(ec)) {
      log::warn("console file of an unknown type; not served", {{"file", relative}});
      continue;
    }
    auto body = read_regular_file(entry.path());
    if (!body) return invalid_argument("console_dir", body.error().message);
    total += body->size();
    if (total > kMaxTotalBytes)
      return invalid_argument("console_dir", dir.string() + " holds more than " + std::to_string(kMaxTotalBytes) +
                                                 " bytes of console files");
    File file{std::string(*type), "\"" + to_hex(crypto::sha256(*body)).substr(0, 32) + "\"", std::move(*body)};
    out.files_.emplace("/" + relative, std::move(file));
  }
  if (!out.files_.contains("/index.html"))
    return invalid_argument("console_dir", dir.string() + " has no index.html");
  return out;
}

bool StaticFiles::owns(std::string_view path) {
  return path.starts_with(kMount) && (path.size() == kMount.size() || path[kMount.size()] == '/');
}

HttpReply StaticFiles::serve(std::string_view method, std::string_view path, std::string_view if_none_match) const {
  if (method != "GET") {
    auto r = plain(405, "method not allowed; use GET\n");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  auto name = path.substr(kMount.size());
  if (name.empty()) {
    auto r = plain(301, "moved to /console/\n");
    r.headers.emplace_back("Location", "/console/");
    return r;
  }
  if (name == "/") name = "/index.html";
  auto it = files_.find(std::string(name));
  if (it == files_.end()) return plain(404, "no such file\n");
  const File& file = it->second;
  HttpReply r;
  r.content_type = file.content_type;
  // Revalidated on every use (a cheap 304), so a new build is seen at once.
  r.headers = {{"Cache-Control", "no-cache"},
               {"ETag", file.etag},
               {"X-Content-Type-Options", "nosniff"},
               {"Content-Security-Policy", std::string(kContentSecurityPolicy)},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"}};
  if (if_none_match == file.etag) {
    r.status = 304;
    return r;
  }
  r.body = file.body;
  return r;
}

}  // namespace alliance::gateway
