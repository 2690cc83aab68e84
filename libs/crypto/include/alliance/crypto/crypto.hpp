#pragma once
// Everything in alliance::crypto.
#include "alliance/crypto/aead.hpp"
#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/hpke.hpp"
#include "alliance/crypto/jwt.hpp"
#include "alliance/crypto/message_seal.hpp"
#include "alliance/crypto/password.hpp"
#include "alliance/crypto/random.hpp"
#include "alliance/crypto/x25519.hpp"
