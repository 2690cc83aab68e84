#include "password_policy.hpp"

#include <pwquality.h>

#include <array>
#include <stdexcept>

namespace alliance::identity {

struct PasswordPolicy::Settings {
  pwquality_settings_t* pwq = nullptr;
};

namespace {

// Our own settings, whatever /etc/security/pwquality.conf says: the length bound is
// validate_password's, the rest is libpwquality's judgement.
constexpr std::array<const char*, 7> kOptions = {
    "minlen=6",       // the lowest it takes; validate_password asks for 12
    "minclass=0",     // passphrases of lower-case words are fine
    "maxrepeat=3",    // "zzzz"
    "maxsequence=3",  // "1234", "abcd"
    "dictcheck=1",    // cracklib's dictionary and its manglings
    "usercheck=1",    // the email's local part, forwards or backwards
    "usersubstr=4",   // ... and any 4 characters of it
};

// The words of 4 characters or more in the email's local part and the display name,
// lower-cased and space-separated, for PWQ_SETTING_BAD_WORDS (shorter ones, "Dr" or
// "Li", would refuse half of all passwords).
std::string owner_words(const PasswordOwner& owner) {
  std::string words;
  std::string word;
  auto flush = [&] {
    if (word.size() >= 4) words += word + ' ';
    word.clear();
  };
  for (std::string_view text : {std::string_view(owner.email).substr(0, owner.email.find('@')),
                                std::string_view(owner.display_name)}) {
    for (char c : text) {
      const bool word_char = static_cast<unsigned char>(c) >= 0x80 || (c >= 'a' && c <= 'z') ||
                             (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!word_char) {
        flush();
        continue;
      }
      word += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    flush();
  }
  return words;
}

}  // namespace

PasswordPolicy::PasswordPolicy() : settings_(new Settings) {
  settings_->pwq = pwquality_default_settings();
  if (!settings_->pwq) {
    delete settings_;
    throw std::runtime_error("libpwquality: out of memory");
  }
  for (const char* option : kOptions) {
    if (pwquality_set_option(settings_->pwq, option) != 0) {
      pwquality_free_settings(settings_->pwq);
      delete settings_;
      throw std::runtime_error(std::string("libpwquality does not take the option ") + option);
    }
  }
  // A dictionary word must be refused by the dictionary itself; without one cracklib
  // answers an error for every password.
  void* aux = nullptr;
  const int probe = pwquality_check(settings_->pwq, "password", nullptr, nullptr, &aux);
  if (probe != PWQ_ERROR_CRACKLIB_CHECK || (aux && std::string_view(static_cast<const char*>(aux)).find(
                                                       "dictionary word") == std::string_view::npos)) {
    char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
    const std::string why = pwquality_strerror(buf, sizeof buf, probe, aux);
    pwquality_free_settings(settings_->pwq);
    delete settings_;
    throw std::runtime_error("cracklib's dictionary (/var/cache/cracklib/cracklib_dict, Debian package "
                             "cracklib-runtime) is not usable: " + why);
  }
}

PasswordPolicy::~PasswordPolicy() {
  pwquality_free_settings(settings_->pwq);
  delete settings_;
}

Status PasswordPolicy::check(std::string_view password, const PasswordOwner& owner, std::string_view field) const {
  const std::string pw(password);  // NUL-free: validate_password ran first
  const std::string words = owner_words(owner);
  const std::string local_part = owner.email.substr(0, owner.email.find('@'));
  std::lock_guard lock(mutex_);
  pwquality_set_str_value(settings_->pwq, PWQ_SETTING_BAD_WORDS, words.c_str());
  void* aux = nullptr;
  const int score = pwquality_check(settings_->pwq, pw.c_str(), nullptr,
                                    local_part.empty() ? nullptr : local_part.c_str(), &aux);
  if (score >= 0) return {};
  char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
  std::string why = pwquality_strerror(buf, sizeof buf, score, aux);
  if (!why.empty() && why.back() == '.') why.pop_back();
  if (!why.empty() && why[0] >= 'A' && why[0] <= 'Z') why[0] = static_cast<char>(why[0] - 'A' + 'a');
  std::string f(field);
  return invalid_argument(f, f + ": is too easy to guess (" + why + ")");
}

}  // namespace alliance::identity
