#pragma once
// Calendar: what a front desk looks at and arranges around appointments: therapists'
// time blocks (create, list, delete) and the day or week view of one or several
// therapists. A plain class with no sockets, on the service's executor; SQLite work
// runs on the store's threads.
//
// Access (a therapist the caller may not see is kNotFound on therapist_id):
//   time blocks   create/delete: the therapist (own), front desk, admin of the practice;
//                 list: everyone in the practice, a client without reason and created_by
#include <functional>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/rpc_server.hpp"
#include "scheduling_proto.hpp"
#include "scheduling_store.hpp"
#include "user_directory.hpp"

namespace alliance::scheduling {

class Calendar {
 public:
  using Ctx = net::CallContext;
  // `store` and `directory` must outlive the object; `clock` (tests) defaults to the system clock.
  Calendar(SchedulingStore& store, UserDirectory& directory, std::function<Instant()> clock = {});

  asio::awaitable<Result<pb::TimeBlockResponse>> create_time_block(const pb::CreateTimeBlockRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListTimeBlocksResponse>> list_time_blocks(const pb::ListTimeBlocksRequest&, const Ctx&);
  asio::awaitable<Result<pb::TimeBlockResponse>> delete_time_block(const pb::DeleteTimeBlockRequest&, const Ctx&);

 private:
  // Who may create or delete a block of `therapist_id`.
  asio::awaitable<Status> may_arrange(const Caller& caller, const std::string& therapist_id);
  Instant now() const;

  SchedulingStore& store_;
  UserDirectory& directory_;
  std::function<Instant()> clock_;
};

}  // namespace alliance::scheduling
