#pragma once
// A QR code of a text drawn with Unicode block characters, two module rows per line
// and a 2-module quiet zone, light modules drawn as blocks (as `qrencode -t UTF8`
// does), so it scans from a terminal with a dark background. libqrencode makes the
// code. Pure; any thread.
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::identity {

// Error correction level M. kInvalidArgument naming `field` if the text does not fit
// in a QR code.
Result<std::string> qr_text(std::string_view text, std::string_view field);

}  // namespace alliance::identity
