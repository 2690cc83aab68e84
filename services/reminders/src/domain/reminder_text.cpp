#include "domain/reminder_text.hpp"

#include <array>

namespace alliance::reminders {

std::string reminder_text(const ReminderWording& w) {
  static constexpr std::array<const char*, 7> kWeekdays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                           "Thursday", "Friday", "Saturday"};
  static constexpr std::array<const char*, 12> kMonths = {"January", "February", "March",     "April",
                                                          "May",     "June",     "July",      "August",
                                                          "September", "October", "November", "December"};
  const auto at = std::chrono::time_point_cast<std::chrono::seconds>(w.start);
  date::local_seconds local = w.zone ? w.zone->to_local(at) : date::local_seconds{at.time_since_epoch()};
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::weekday wd{day};
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(local - day).count();

  std::string text(w.practice_name.empty() ? std::string_view("Your practice") : w.practice_name);
  text += ": reminder of your appointment on ";
  text += kWeekdays[wd.c_encoding()];
  text += ' ';
  text += std::to_string(static_cast<unsigned>(ymd.day()));
  text += ' ';
  text += kMonths[static_cast<unsigned>(ymd.month()) - 1];
  text += ' ';
  text += std::to_string(static_cast<int>(ymd.year()));
  text += " at ";
  text += format_hhmm(static_cast<int>(minutes));
  text += " (";
  text += w.zone ? std::string(w.zone->name()) : std::string("UTC");
  text += ')';
  if (!w.therapist_name.empty()) {
    text += " with ";
    text += w.therapist_name;
  }
  text += w.confirmed ? ". You have confirmed it." : ". Please confirm it.";
  return text;
}

}  // namespace alliance::reminders
