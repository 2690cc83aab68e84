#pragma once
// PasswordPolicy: whether a new password is hard enough to guess, decided by
// libpwquality with cracklib's dictionary (Debian's libpwquality1 and
// cracklib-runtime), not by rules of our own. Beyond validate_password's length it
// refuses dictionary words and their common manglings, palindromes (twelve spaces),
// runs like "1234" or "abcd" (longer than 3), the same character more than 3 times in
// a row, and passwords built from the person's email or display name. Used wherever
// a password is set (a practice's first admin, a new user, a password reset); never
// at sign-in. Any thread: one check at a time (cracklib keeps state between calls).
#include <mutex>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::identity {

// Who the password is for: words it must not be built from.
struct PasswordOwner {
  std::string email;
  std::string display_name;
};

class PasswordPolicy {
 public:
  // Throws std::runtime_error naming the dictionary when cracklib's dictionary cannot
  // be read, so a service never starts without the check.
  PasswordPolicy();
  ~PasswordPolicy();
  PasswordPolicy(const PasswordPolicy&) = delete;
  PasswordPolicy& operator=(const PasswordPolicy&) = delete;

  // OK, or invalid_argument on `field`: "<field>: is too easy to guess (<libpwquality's
  // reason>)". The message never contains the password.
  Status check(std::string_view password, const PasswordOwner& owner, std::string_view field) const;

 private:
  struct Settings;
  Settings* settings_;
  mutable std::mutex mutex_;
};

}  // namespace alliance::identity
