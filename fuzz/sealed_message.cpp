// Format 2 messages: the signed inner's parser, and opening hostile ciphertexts under
// real keys. Must hold: an inner it accepts is exactly what the writer makes of what it
// read (one encoding per message: nothing unsigned can hide in it), and opening never
// succeeds on bytes that were not sealed for the key.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>

#include "alliance/crypto/message_seal.hpp"
#include "message_inner_v2.hpp"

namespace crypto = alliance::crypto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const crypto::DeviceKeys kReader = crypto::generate_device_keys();
  static const crypto::DeviceKeys kSender = crypto::generate_device_keys();
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    const std::string inner = in.ConsumeRemainingBytesAsString();
    auto parsed = crypto::detail::parse_inner_v2(inner);
    if (!parsed) return 0;
    std::string written;
    written.reserve(inner.size());
    crypto::detail::append_inner_v2(written, parsed->header, parsed->plaintext, inner.size());
    if (written != inner) std::abort();
    return 0;
  }
  const std::string wrapped = in.ConsumeBytesAsString(crypto::kWrappedKeySize);
  const std::string ciphertext = in.ConsumeRemainingBytesAsString();
  const crypto::MessageContext ctx{"conversation", "message", "sender-device"};
  auto opened = crypto::open_message_v2(ctx, ciphertext, wrapped, "reader-device", kReader.agreement_private,
                                        kSender.signing_public);
  if (opened) std::abort();  // nobody sealed these bytes
  return 0;
}
