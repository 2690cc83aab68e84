#include "qr_text.hpp"

#include <qrencode.h>

#include <memory>

namespace alliance::identity {
namespace {

struct FreeQr {
  void operator()(QRcode* q) const noexcept { QRcode_free(q); }
};

constexpr int kQuietZone = 2;

}  // namespace

Result<std::string> qr_text(std::string_view text, std::string_view field) {
  const std::string copy(text);  // QRcode_encodeString wants a NUL-terminated string
  std::unique_ptr<QRcode, FreeQr> qr(QRcode_encodeString(copy.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) return invalid_argument(std::string(field), std::string(field) + ": too long for a QR code");
  const int width = qr->width;
  // Outside the code is the quiet zone: light.
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= width) return false;
    return (qr->data[y * width + x] & 1) != 0;
  };
  std::string out;
  for (int y = -kQuietZone; y < width + kQuietZone; y += 2) {
    for (int x = -kQuietZone; x < width + kQuietZone; ++x) {
      const bool top_light = !dark(x, y);
      const bool bottom_light = y + 1 < width + kQuietZone && !dark(x, y + 1);
      if (top_light && bottom_light)
        out += "\u2588";  // full block
      else if (top_light)
        out += "\u2580";  // upper half
      else if (bottom_light)
        out += "\u2584";  // lower half
      else
        out += " ";
    }
    out += "\n";
  }
  return out;
}

}  // namespace alliance::identity
