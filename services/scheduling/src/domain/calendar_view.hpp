#pragma once
// What a calendar view shows of a therapist's availability over a range of instants:
// working hours and days off as UTC spans, worked out per local date in the
// therapist's zone. Pure functions, any thread.
#include <vector>

#include "domain/availability.hpp"
#include "domain/time_zone.hpp"

namespace alliance::scheduling {

struct Span {
  Instant start{}, end{};
};

// The working intervals (intervals_on each local date, so none on a day off) that
// overlap [from, to), clipped to it, earliest first. Nothing if the zone is unknown.
std::vector<Span> working_spans(const Availability& availability, Instant from, Instant to);

// The days off that overlap [from, to): each range from local midnight of its first
// day to local midnight after its last, clipped, earliest first.
std::vector<Span> time_off_spans(const Availability& availability, Instant from, Instant to);

}  // namespace alliance::scheduling
