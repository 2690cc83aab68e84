#pragma once
// The whole scheduling domain API: time zones, availability, slots, series, ICS feed.
#include "domain/availability.hpp"
#include "domain/ics_feed.hpp"
#include "domain/series.hpp"
#include "domain/slots.hpp"
#include "domain/time_zone.hpp"
