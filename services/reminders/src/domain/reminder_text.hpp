#pragma once
// The words a reminder shows on a client's phone, lock screen included: the
// practice, the local date and time in the client's zone, the therapist only if the
// practice's policy says so, and whether it is confirmed. Never the appointment
// type, notes or a reason. Pure functions, any thread.
#include <string>
#include <string_view>

#include <date/tz.h>

#include "domain/reminder_plan.hpp"

namespace alliance::reminders {

struct ReminderWording {
  std::string_view practice_name;   // "" -> "your practice"
  std::string_view therapist_name;  // "" -> not named
  TimePoint start;
  const date::time_zone* zone = nullptr;  // the client's; nullptr -> UTC
  bool confirmed = false;
};

// e.g. "Riverside Therapy: reminder of your appointment on Monday 7 December 2026
// at 09:00 (America/New_York) with Dr Kim. Please confirm it." and, once confirmed,
// "... You have confirmed it."
std::string reminder_text(const ReminderWording& w);

}  // namespace alliance::reminders
