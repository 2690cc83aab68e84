#pragma once
// Everything in alliance::crypto.
#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/jwt.hpp"
#include "alliance/crypto/password.hpp"
