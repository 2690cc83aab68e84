// A service's AuditSender shipping records to identity's real AppendAudit (the service
// behind a real RpcServer, mutual TLS as "messaging", a real audit.db): a record that
// finds the sender idle is written at once; under load records wait to share a batch
// (one commit in identity) but never past a full batch or a flush; every record lands
// once, in the order recorded, on a chain that verifies.
#include "alliance/audit/audit_sender.hpp"
#include "alliance/audit/audit_file.hpp"
#include "audit_log.hpp"
#include "identity_rpc_fixture.hpp"

namespace alliance::identity {
namespace {

class AuditSenderTest : public IdentityRpcTest {
 protected:
  void SetUp() override {
    IdentityRpcTest::SetUp();
    if (HasFatalFailure()) return;
    auto log = AuditLog::open(io_.get_executor(), {.database = dir_.path() / "audit.db"},
                              crypto::Ed25519PrivateKey::generate());
    ASSERT_TRUE(log) << log.error().message;
    log_ = std::move(*log);
    service_->set_audit_log(log_.get());
  }

  void TearDown() override {
    sender_.reset();
    IdentityRpcTest::TearDown();
    log_.reset();
  }

  audit::AuditSender& sender(std::chrono::milliseconds linger, int max_batch = 500) {
    sender_ = std::make_unique<audit::AuditSender>(io_.get_executor(), client("messaging"),
                                                   audit::AuditSender::Options{.max_batch = max_batch, .linger = linger});
    return *sender_;
  }

  static void record(audit::AuditSender& s, int i) {
    net::CallContext ctx;
    ctx.caller.set_practice_id("p1");
    ctx.caller.set_user_id("desk1");
    ctx.caller.set_role("front_desk");
    const std::string id = "m" + std::to_string(i);
    s.record(ctx, {.action = "message.send", .object_type = "conversation", .object_id = id,
                   .subject_user_id = "client1"});
  }

  // Waits (running io_) until identity has committed `n` records and the sender has
  // heard so, or `within` passed.
  bool appended(std::uint64_t n, std::chrono::milliseconds within) {
    const auto done = [&] { return log_->stats().appended >= n && sender_->stats().sent >= n; };
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(5ms);
    }
    return done();
  }

  // The object ids in the log, by seq, after checking the chain.
  std::vector<std::string> logged() {
    auto file = audit::read_audit_file(dir_.path() / "audit.db");
    EXPECT_TRUE(file) << file.error().message;
    if (!file) return {};
    const auto v = audit::verify_chain(file->records, file->checkpoints, log_->public_key_raw());
    EXPECT_TRUE(v.ok) << v.detail;
    std::vector<std::string> ids;
    for (const auto& r : file->records) {
      EXPECT_EQ(r.service, "messaging");
      ids.push_back(r.object_id);
    }
    return ids;
  }

  static std::vector<std::string> ids(int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back("m" + std::to_string(i));
    return out;
  }

  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<audit::AuditSender> sender_;
};

// A batch is sent as its records' queued bytes joined: the same bytes as the request
// made of those records, with one-, two- and three-byte lengths.
TEST(AuditRequestBytes, AreTheRequestOfTheQueuedRecords) {
  ::alliance::identity::v1::AppendAuditRequest expected;
  std::deque<std::string> queued;
  for (std::size_t object_id_bytes : {0, 3, 200, 20000}) {
    auto& r = *expected.add_records();
    r.set_at_unix_ms(1'800'000'000'000);
    r.set_action("message.send");
    r.set_object_id(std::string(object_id_bytes, 'x'));
    r.SerializeToString(&queued.emplace_back());
  }
  EXPECT_EQ(audit::append_audit_request(queued.begin(), queued.end()), expected.SerializeAsString());
  EXPECT_EQ(audit::append_audit_request(queued.begin(), queued.begin()), "");
}

TEST_F(AuditSenderTest, ARecordThatFindsTheSenderIdleIsWrittenAtOnce) {
  auto& s = sender(std::chrono::minutes(1));
  record(s, 0);
  ASSERT_TRUE(appended(1, 5s)) << "an idle sender held its record back";
  EXPECT_EQ(s.stats().batches, 1u);
  EXPECT_EQ(s.queued(), 0u);
  EXPECT_EQ(logged(), ids(0, 1));
}

TEST_F(AuditSenderTest, RecordsArrivingUnderLoadShareOneBatchAndKeepTheirOrder) {
  auto& s = sender(1500ms);
  // One record every 5 ms for 300 ms: the first goes at once, the rest wait for the
  // linger and go together, where sending on every return would make dozens of calls.
  for (int i = 0; i < 60; ++i) {
    record(s, i);
    const auto next = std::chrono::steady_clock::now() + 5ms;
    while (std::chrono::steady_clock::now() < next) io_.run_one_until(next);
  }
  ASSERT_TRUE(appended(60, 8s));
  EXPECT_LE(s.stats().batches, 3u);
  EXPECT_EQ(s.stats().sent, 60u);
  EXPECT_EQ(logged(), ids(0, 60));
}

TEST_F(AuditSenderTest, AFullBatchAndAFlushGoWithoutWaitingForTheLinger) {
  auto& s = sender(std::chrono::minutes(1), /*max_batch=*/10);
  record(s, 0);
  ASSERT_TRUE(appended(1, 5s));
  record(s, 1);
  const auto lingering = std::chrono::steady_clock::now() + 100ms;  // the sender now waits for company
  while (std::chrono::steady_clock::now() < lingering) io_.run_one_until(lingering);
  EXPECT_EQ(s.queued(), 1u);
  for (int i = 2; i <= 25; ++i) record(s, i);
  // Two full batches go now; the last 5 would wait a minute for company.
  ASSERT_TRUE(appended(21, 5s)) << "a full batch waited for the linger";
  EXPECT_EQ(s.queued(), 5u);
  EXPECT_TRUE(run(s.flush(5s))) << "flush waited for the linger";
  EXPECT_EQ(log_->stats().appended, 26u);
  EXPECT_EQ(logged(), ids(0, 26));
}

}  // namespace
}  // namespace alliance::identity
