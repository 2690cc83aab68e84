#pragma once
// Waitlist: clients waiting for an earlier time with a therapist, and the offers of
// freed slots. When a cancel or reschedule frees time (slot_freed), the first
// waiting entry in join order whose dates, preferred windows and type's rules fit
// the time (re-checked with check_slot) gets an offer with a hold: the slot is
// blocked for everyone else until the hold expires (SchedulingStore checks and
// triggers). The offer is pushed live (PushFrame "waitlist.offer", body
// WaitlistOffer, on the client's channel) and durable (list_offers). Accept books
// it; decline, leave or an expired hold passes it to the next matching client.
// Expiry is driven by one steady_timer set to the next hold's expiry, re-read from
// SQLite, so a restart resumes where it stopped. Lives on one executor (the
// service's io_context): every method and the run() loop run there.
//
// Access: a client joins, sees, leaves and answers only their own entries and
// offers (for a therapist on their care team); front desk and admin any in the
// practice; a therapist sees who waits for them. Others' entries answer kNotFound.
#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/rpc_server.hpp"
#include "scheduling_proto.hpp"
#include "scheduling_store.hpp"
#include "user_directory.hpp"

namespace alliance::redis {
class Client;
}

namespace alliance::scheduling {

inline constexpr std::string_view kWaitlistOfferPush = "waitlist.offer";

struct WaitlistOptions {
  std::chrono::milliseconds hold{std::chrono::minutes(15)};  // config key waitlist_hold
  // late_cancellation_from of an accepted offer's appointment (config key cancellation_window).
  std::chrono::minutes cancellation_window{24 * 60};
  // "now" for the booking rules (tests pin it; holds always expire by the wall clock).
  std::function<Instant()> clock;
};

class Waitlist {
 public:
  using Ctx = net::CallContext;
  // `store`, `directory` and `redis` (nullptr: no live pushes) must outlive the object
  // and the run() loop. `changed` is called after an accepted offer's commit (the
  // event publisher's notify).
  Waitlist(asio::any_io_executor ex, SchedulingStore& store, UserDirectory& directory, redis::Client* redis,
           WaitlistOptions options, std::function<void()> changed = {});

  asio::awaitable<Result<pb::WaitlistEntryResponse>> join(const pb::JoinWaitlistRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListWaitlistResponse>> list(const pb::ListWaitlistRequest&, const Ctx&);
  asio::awaitable<Result<pb::WaitlistEntryResponse>> leave(const pb::LeaveWaitlistRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListWaitlistOffersResponse>> list_offers(const pb::ListWaitlistOffersRequest&,
                                                                      const Ctx&);
  asio::awaitable<Result<pb::WaitlistOfferResponse>> accept_offer(const pb::AcceptWaitlistOfferRequest&, const Ctx&);
  asio::awaitable<Result<pb::WaitlistOfferResponse>> decline_offer(const pb::DeclineWaitlistOfferRequest&,
                                                                   const Ctx&);

  // A committed change freed this time: offers it (in the background, on the executor).
  void slot_freed(FreedSlot slot);
  // Offers `slot` to the first matching waiting client; returns the offer made, if any.
  asio::awaitable<std::optional<WaitlistOffer>> offer_next(FreedSlot slot);

  // The hold-expiry loop; co_spawn it with a completion handler that logs. Returns after stop().
  asio::awaitable<void> run();
  void stop();

 private:
  void wake();
  Instant now() const;
  asio::awaitable<void> push_offer(const WaitlistOffer& offer);

  asio::any_io_executor ex_;
  SchedulingStore& store_;
  UserDirectory& directory_;
  redis::Client* redis_;
  WaitlistOptions options_;
  std::function<void()> changed_;
  asio::steady_timer timer_;
  bool dirty_ = true;
  bool stopping_ = false;
};

// Wire form of an offer (local start and offset in the therapist's zone).
void fill(pb::WaitlistOffer& out, const WaitlistOffer& o);
void fill(pb::WaitlistEntry& out, const WaitlistEntry& e);

}  // namespace alliance::scheduling
