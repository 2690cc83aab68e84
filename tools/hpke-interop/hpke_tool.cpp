// Command-line front end to alliance::crypto::hpke for the interoperability check in
// run.sh (built by hand there, not part of the CMake build). All values are hex.
//   hpke_tool keygen                                   -> sk pk
//   hpke_tool seal <aead> <pk_r> <info> <aad> <pt>     -> enc ct exported("interop", 32)
//   hpke_tool open <aead> <sk_r> <info> <aad> <enc> <ct> -> pt exported("interop", 32)
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/crypto/hpke.hpp"
#include "alliance/crypto/x25519.hpp"

namespace {

namespace hpke = alliance::crypto::hpke;

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out.empty() ? "-" : out;
}

std::optional<std::string> unhex(std::string_view text) {
  if (text == "-") return std::string();
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(std::string(text.substr(i, 2)).c_str(), "%2x", &v) != 1) return std::nullopt;
    out += static_cast<char>(v);
  }
  return out;
}

int usage() {
  std::cerr << "usage: hpke_tool keygen | seal <aead> <pk_r> <info> <aad> <pt> | "
               "open <aead> <sk_r> <info> <aad> <enc> <ct>   (hex, '-' for empty)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string_view command = argv[1];
  if (command == "keygen") {
    auto pair = alliance::crypto::x25519_generate();
    std::cout << hex(pair.private_key) << ' ' << hex(pair.public_key) << '\n';
    return 0;
  }
  std::vector<std::string> args;
  for (int i = 3; i < argc; ++i) {
    auto bytes = unhex(argv[i]);
    if (!bytes) return usage();
    args.push_back(*bytes);
  }
  if (argc < 3) return usage();
  auto aead = static_cast<hpke::Aead>(std::stoi(argv[2]));
  if (command == "seal" && args.size() == 4) {
    auto sender = hpke::setup_base_sender(args[0], args[1], aead);
    if (!sender) return std::cerr << sender.error().field << ": " << sender.error().message << '\n', 1;
    auto ct = sender->context.seal(args[2], args[3]);
    if (!ct) return std::cerr << ct.error().message << '\n', 1;
    std::cout << hex(sender->enc) << ' ' << hex(*ct) << ' ' << hex(sender->context.export_secret("interop", 32))
              << '\n';
    return 0;
  }
  if (command == "open" && args.size() == 5) {
    auto recipient = hpke::setup_base_recipient(args[3], args[0], args[1], aead);
    if (!recipient) return std::cerr << recipient.error().field << ": " << recipient.error().message << '\n', 1;
    auto pt = recipient->open(args[2], args[4]);
    if (!pt) return std::cerr << pt.error().field << ": " << pt.error().message << '\n', 1;
    std::cout << hex(*pt) << ' ' << hex(recipient->export_secret("interop", 32)) << '\n';
    return 0;
  }
  return usage();
}
