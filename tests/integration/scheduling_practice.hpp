#pragma once
// A practice arranged for scheduling through the public API of the shared System: an
// admin, a front desk, two therapists (open every day 08:00-20:00 New York time), two
// clients (the first on the first therapist's care team) and a self-bookable 50-minute
// type with a 10-minute buffer after, on an hourly grid. Each test gets its own practice.
#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "shared_system.hpp"

namespace alliance::testing {

// The string at `key` of a JSON object.
std::string str(const boost::json::value& v, std::string_view key);
// "2026-11-27T00:00:00Z" for now + days, at midnight UTC.
std::string day_from_now(int days);

class SchedulingPractice : public SharedSystem {
 protected:
  void SetUp() override;

  // A new type of the practice (50 minutes, 10 after, hourly grid); its id.
  std::string make_type(const std::string& name, bool self_booking);
  // Open slot start times of the therapist seen by the first client: from tomorrow for
  // a week, or in [from, to).
  std::vector<std::string> slots(const std::string& therapist);
  std::vector<std::string> slots(const std::string& therapist, const std::string& from, const std::string& to);
  boost::json::value booking(const std::string& start, const std::string& client, const std::string& key = "",
                             const std::string& therapist = "", const std::string& type = "");
  // The therapist's calendar feed as a calendar app fetches it: a new URL, then GET
  // without a token. The body; "" (and a failed expectation) if either step fails.
  std::string fetch_feed(client::AllianceClient& therapist);
  // POST with `who`'s token, returning the raw status and body.
  client::HttpResponse post(client::AllianceClient& who, const std::string& target, const boost::json::value& body);

  std::string slug_, desk_id_, therapist_id_, therapist2_id_, client_id_, client2_id_, type_id_;
  std::unique_ptr<client::AllianceClient> admin_, desk_, client_;
};

}  // namespace alliance::testing
