#pragma once
// What reminder tests share: instants on the scheduling grid, a practice's
// around-the-clock hours and a quick appointment type, and making planned
// reminders due now. Reminders are planned hours ahead; to see one fire without
// waiting hours a test moves its due instant in the reminders database (the file
// the service uses) and wakes every instance, which then fire it through their
// normal path. Blocking; use from the test's main thread.
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/web_socket.hpp"
#include "system.hpp"

namespace alliance::testing {

// "2026-12-07T14:00:00Z" for an instant in ms since the epoch.
std::string rfc3339(std::int64_t ms);
// The first 5-minute boundary (scheduling's grid) at least `ahead` from now, in ms,
// such that [it, it + span) lies within one UTC day: a therapist's hours are per day
// (00:00-24:00 below), so a session may not cross midnight. When it would, the next
// midnight is answered (later by less than `span`), whatever the time of day the
// test runs at.
std::int64_t slot_after(std::chrono::milliseconds ahead,
                        std::chrono::milliseconds span = std::chrono::minutes(30));

// The therapist works every day 00:00-24:00 UTC (as `admin`); throws on failure.
void open_around_the_clock(client::AllianceClient& admin, const std::string& therapist_id);
// A 30-minute type on a 5-minute grid that can be booked at any notice, 30 days
// ahead, by clients too; its id. Throws on failure.
std::string quick_type(client::AllianceClient& admin, const std::string& name);

// A practice with an admin, a front desk, two therapists (both open every day around the
// clock, UTC) and two clients, both on the first therapist's care team, everyone signed
// in, and a quick type (quick_type). Its slug starts with `slug_prefix`. Throws on failure.
struct TwoTherapistPractice {
  System& sys;
  std::string slug, practice_id, therapist_id, therapist2_id, client_id, client2_id, type_id;
  std::unique_ptr<client::AllianceClient> admin, desk, therapist, therapist2, client, client2;
  TwoTherapistPractice(System& s, const std::string& slug_prefix);
};

// Moves the reminders' due instant to `due_ms` (whatever their state: a cancelled
// one must still never fire) and wakes the reminders instances; how many it moved.
int make_due(System& sys, const std::vector<std::string>& reminder_ids, std::int64_t due_ms);

// A push socket past its session.ready frame (open_push_socket waits for it); throws on failure.
std::unique_ptr<client::WebSocket> push_socket(client::AllianceClient& who);
// Reads frames until one whose "type" is `type` arrives (others are skipped): its JSON,
// or null when `timeout` passes first.
boost::json::value next_frame(client::WebSocket& ws, std::string_view type, std::chrono::milliseconds timeout);

}  // namespace alliance::testing
