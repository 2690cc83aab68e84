#pragma once
// A therapist's private calendar feed as iCalendar (RFC 5545), built with libical.
// Pure, any thread.
//
// Privacy: a feed URL ends up in third-party calendar apps, so an event carries only
// "Appointment", the appointment type's name, times, status, ids and, in person, the
// practice's location (a telehealth link is for the participants, not the feed). FeedEvent has no
// field for a client's name, email or anything else protected, on purpose.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time_zone.hpp"

namespace alliance::scheduling {

struct FeedEvent {
  std::string appointment_id;  // UID = appointment_id + "@alliance"
  Instant start, end;          // DTSTART / DTEND, written in UTC
  std::string type_name;       // DESCRIPTION (SUMMARY is always "Appointment")
  std::string status;          // booked|confirmed|cancelled|completed|no_show
  std::int64_t version = 0;    // SEQUENCE, so calendar apps pick up changes
  Instant changed{};           // DTSTAMP: the appointment's last change (the epoch: unknown, `now`)
  std::string location;        // LOCATION when not "": in person only (never a video link)
};

// VCALENDAR (PRODID "-//Alliance//Scheduling//EN", VERSION 2.0, CALSCALE GREGORIAN,
// X-WR-CALNAME `calendar_name`) with one VEVENT per event; DTSTAMP = the event's last
// change, so a calendar app polling the feed sees only events that changed as changed.
// STATUS: booked -> TENTATIVE, cancelled -> CANCELLED, confirmed/completed/no_show ->
// CONFIRMED (the time was held). `calendar_name` is shown by calendar apps: pass the
// therapist's own label, never a client detail.
std::string build_ics_feed(std::string_view calendar_name, const std::vector<FeedEvent>& events,
                           Instant now);

}  // namespace alliance::scheduling
