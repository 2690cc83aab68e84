// MessagingService built directly (no RPC) over a real SQLite file, a real
// redis-server and an in-memory identity directory: sequence numbers under
// concurrent sends, idempotent retries, the stale-device refusal, input
// validation, who may see a conversation, the send rate, receipts, and inactive
// devices listed for reading history but never accepted as recipients.
#include <array>
#include <cstdio>
#include <set>

#include "messaging_fixture.hpp"

namespace alliance::messaging {
namespace {

TEST_F(MessagingServiceTest, TwoHundredConcurrentSendsGetSequenceOneToTwoHundredInFewTransactions) {
  const auto conv = open();
  const auto ctx = client();
  constexpr int kSends = 200;
  std::vector<pb::SendMessageRequest> reqs;
  for (int i = 0; i < kSends; ++i)
    reqs.push_back(sealed(conv, "burst-" + std::to_string(i), "dev-client-phone", recipients()));
  std::vector<std::optional<Result<pb::SendMessageResponse>>> results(kSends);
  int finished = 0;
  const auto before = store_->database().stats();
  for (int i = 0; i < kSends; ++i) {
    auto one = [this, &reqs, &results, &ctx, &finished, i]() -> asio::awaitable<void> {
      results[i].emplace(co_await service_->send_message(reqs[i], ctx));
      ++finished;
    };
    asio::co_spawn(io_, one, [](std::exception_ptr e) {
      if (e) ADD_FAILURE() << "send threw";
    });
  }
  ASSERT_TRUE(pump_until([&] { return finished == kSends; }, 30s)) << finished << " of " << kSends << " finished";
  const auto after = store_->database().stats();

  std::set<std::int64_t> seqs;
  std::map<std::string, std::int64_t> seq_of;
  for (int i = 0; i < kSends; ++i) {
    ASSERT_TRUE(results[i]->ok()) << i << ": " << results[i]->error().message;
    seqs.insert((*results[i])->message().seq());
    seq_of[reqs[i].message_id()] = (*results[i])->message().seq();
  }
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kSends)) << "duplicate sequence numbers";
  EXPECT_EQ(*seqs.begin(), 1);
  EXPECT_EQ(*seqs.rbegin(), kSends);

  // What a device syncs agrees with what each sender was told.
  auto got = messages(conv);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kSends));
  for (int i = 0; i < kSends; ++i) {
    EXPECT_EQ(got[i].seq(), i + 1);
    EXPECT_EQ(seq_of[got[i].message_id()], got[i].seq());
  }

  // Group commit: many sends share one transaction (and its fsync).
  const auto transactions = after.transactions - before.transactions;
  std::printf("[ info ] %d concurrent sends committed in %llu transactions (%llu write jobs)\n", kSends,
              static_cast<unsigned long long>(transactions),
              static_cast<unsigned long long>(after.jobs - before.jobs));
  EXPECT_LT(transactions, 100u);
}

TEST_F(MessagingServiceTest, SameMessageIdWithTheSameContentIsOneMessageWithDifferentContentIsRefused) {
  const auto conv = open();
  auto req = sealed(conv, "hello-1", "dev-client-phone", recipients());
  auto first = send(client(), req);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->message().seq(), 1);
  ASSERT_TRUE(client_says(conv, "hello-2").ok());

  auto retry = send(client(), req);
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->message().seq(), 1);
  EXPECT_EQ(retry->message().sent_unix_ms(), first->message().sent_unix_ms());

  auto changed = req;
  changed.set_ciphertext(random_bytes(200));
  auto conflict = send(client(), changed);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, Code::kAlreadyExists);
  EXPECT_EQ(conflict.error().field, "message_id");

  // The therapist may not reuse the client's id either (it is the conversation's).
  auto theirs = sealed(conv, "hello-1", "dev-therapist", recipients());
  auto stolen = send(therapist(), theirs);
  ASSERT_FALSE(stolen.ok());
  EXPECT_EQ(stolen.error().code, Code::kAlreadyExists);

  // Exactly two messages exist, hello-1 once.
  auto got = messages(conv);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message_id(), "hello-1");
  EXPECT_EQ(got[0].ciphertext(), req.ciphertext());
  EXPECT_EQ(got[1].message_id(), "hello-2");
}

TEST_F(MessagingServiceTest, TwoConcurrentSendsOfOneIdEndAsOneMessage) {
  const auto conv = open();
  const auto ctx = client();
  // Same id, same content, at once: both answered with the one message.
  const auto same = sealed(conv, "twin", "dev-client-phone", recipients());
  // Same id, different content, at once: one wins, the other is refused.
  const auto a = sealed(conv, "fork", "dev-client-phone", recipients());
  const auto b = sealed(conv, "fork", "dev-client-phone", recipients());
  const std::array<const pb::SendMessageRequest*, 4> reqs = {&same, &same, &a, &b};
  std::array<std::optional<Result<pb::SendMessageResponse>>, 4> results;
  int finished = 0;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    auto one = [this, &reqs, &results, &ctx, &finished, i]() -> asio::awaitable<void> {
      results[i].emplace(co_await service_->send_message(*reqs[i], ctx));
      ++finished;
    };
    asio::co_spawn(io_, one, [](std::exception_ptr e) {
      if (e) ADD_FAILURE() << "send threw";
    });
  }
  ASSERT_TRUE(pump_until([&] { return finished == 4; }, 10s));
  ASSERT_TRUE(results[0]->ok()) << results[0]->error().message;
  ASSERT_TRUE(results[1]->ok()) << results[1]->error().message;
  EXPECT_EQ((*results[0])->message().seq(), (*results[1])->message().seq());
  const bool a_won = results[2]->ok();
  EXPECT_NE(a_won, results[3]->ok()) << "exactly one of two different contents under one id is accepted";
  const auto& loser = a_won ? *results[3] : *results[2];
  if (!loser.ok()) {
    EXPECT_EQ(loser.error().code, Code::kAlreadyExists);
    EXPECT_EQ(loser.error().field, "message_id");
  }
  auto got = messages(conv);
  ASSERT_EQ(got.size(), 2u);
  std::set<std::string> ids{got[0].message_id(), got[1].message_id()};
  EXPECT_EQ(ids, (std::set<std::string>{"twin", "fork"}));
  const auto& fork = got[0].message_id() == "fork" ? got[0] : got[1];
  EXPECT_EQ(fork.ciphertext(), (a_won ? a : b).ciphertext());
}

TEST_F(MessagingServiceTest, RetryOfAnAcceptedMessageIsAnsweredEvenAfterTheDeviceListChanged) {
  const auto conv = open();
  auto req = sealed(conv, "before-change", "dev-client-phone", recipients());
  auto first = send(client(), req);
  ASSERT_TRUE(first.ok()) << first.error().message;

  // The therapist adds a tablet and the client's laptop is revoked meanwhile.
  directory_.add_device(kTherapist, "dev-therapist-tablet", "sess-therapist-tablet");
  directory_.revoke_device("dev-client-laptop");
  auto retry = send(client(), req);
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->message().seq(), first->message().seq());
  // A new message must cover the new list, though.
  auto stale = send(client(), sealed(conv, "after-change", "dev-client-phone",
                                     {"dev-client-phone", "dev-client-laptop", "dev-therapist"}));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(messages(conv).size(), 1u);
}

TEST_F(MessagingServiceTest, StaleDeviceListIsRefusedWithTheCurrentRecipients) {
  const auto conv = open();
  auto expect_stale = [&](const std::vector<std::string>& keys, const std::string& what) {
    auto r = send(client(), sealed(conv, "m-" + new_id(), "dev-client-phone", keys));
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code, Code::kFailedPrecondition) << what;
    EXPECT_EQ(r.error().field, "keys") << what;
    pb::SendMessageResponse detail;
    ASSERT_TRUE(detail.ParseFromString(r.error().detail)) << what;
    std::set<std::string> listed;
    for (const auto& d : detail.recipients().devices()) listed.insert(d.id());
    std::set<std::string> want;
    for (const auto& d : directory_.devices_of(kClient)) want.insert(d);
    for (const auto& d : directory_.devices_of(kTherapist)) want.insert(d);
    EXPECT_EQ(listed, want) << what;
    EXPECT_EQ(detail.recipients().has_archive_key(), directory_.has_archive_key(kPractice)) << what;
    EXPECT_FALSE(detail.has_message()) << what;
  };
  expect_stale({"dev-client-phone", "dev-therapist"}, "missing the laptop");
  expect_stale({"dev-client-phone", "dev-client-laptop", "dev-therapist", "dev-gone"}, "an extra device");
  expect_stale({"dev-client-phone", "dev-client-laptop", "dev-client2"}, "another user's device instead");

  // With an archive key, "archive" must be among the keys.
  const std::string archive_public = random_bytes(32);
  directory_.set_archive_key(kPractice, archive_public);
  expect_stale({"dev-client-phone", "dev-client-laptop", "dev-therapist"}, "missing archive");
  auto r = send(client(), sealed(conv, "no-archive", "dev-client-phone",
                                 {"dev-client-phone", "dev-client-laptop", "dev-therapist"}));
  ASSERT_FALSE(r.ok());
  pb::SendMessageResponse detail;
  ASSERT_TRUE(detail.ParseFromString(r.error().detail));
  EXPECT_EQ(detail.recipients().archive_key().agreement_public_key(), archive_public);
  EXPECT_EQ(detail.recipients().archive_key().practice_id(), kPractice);

  // Re-wrapped for the current list it goes through.
  auto ok = send(client(), sealed(conv, "with-archive", "dev-client-phone",
                                  {"dev-client-phone", "dev-client-laptop", "dev-therapist", "archive"}));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->message().seq(), 1);  // none of the refusals took a sequence number
}

TEST_F(MessagingServiceTest, InactiveDevicesAreListedOnRequestButASendWrappedForOneIsStale) {
  // Through the directory cache the service runs behind, so the two lists cannot share an entry.
  CachingDirectory cache(directory_, {});
  auto owned = service_over(cache);
  auto& service = *owned;
  const auto conv = open();
  auto list = [&](bool include_inactive) {
    pb::ListRecipientsRequest req;
    req.set_conversation_id(conv);
    req.set_include_inactive(include_inactive);
    auto r = run(service.list_recipients(req, therapist()));
    EXPECT_TRUE(r.ok()) << r.error().message;
    std::vector<std::pair<std::string, bool>> out;  // (device id, marked inactive)
    if (r.ok())
      for (const auto& d : r->devices()) out.emplace_back(d.id(), d.revoked_unix_ms() != 0);
    return out;
  };
  auto sent = run(service.send_message(sealed(conv, "from-laptop-era", "dev-client-phone", recipients()), client()));
  ASSERT_TRUE(sent.ok()) << sent.error().message;

  directory_.revoke_device("dev-client-laptop");
  cache.invalidate_all();  // identity's announcement
  using Listed = std::vector<std::pair<std::string, bool>>;
  EXPECT_EQ(list(false), (Listed{{"dev-client-phone", false}, {"dev-therapist", false}}));
  // The revoked laptop is listed only on request, after the active devices, marked inactive...
  EXPECT_EQ(list(true), (Listed{{"dev-client-phone", false}, {"dev-therapist", false}, {"dev-client-laptop", true}}));
  // ...and that answer is not what the plain list (or a send) is checked against afterwards.
  EXPECT_EQ(list(false), (Listed{{"dev-client-phone", false}, {"dev-therapist", false}}));

  // A message wrapped for the revoked laptop too is refused as stale, with the active list.
  auto stale = run(service.send_message(
      sealed(conv, "to-revoked", "dev-therapist", {"dev-client-phone", "dev-client-laptop", "dev-therapist"}),
      therapist()));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(stale.error().field, "keys");
  pb::SendMessageResponse detail;
  ASSERT_TRUE(detail.ParseFromString(stale.error().detail));
  std::set<std::string> offered;
  for (const auto& d : detail.recipients().devices()) {
    offered.insert(d.id());
    EXPECT_EQ(d.revoked_unix_ms(), 0) << d.id();
  }
  EXPECT_EQ(offered, (std::set<std::string>{"dev-client-phone", "dev-therapist"}));
  // Wrapped for the active devices only, it goes through.
  auto ok = run(service.send_message(sealed(conv, "to-active", "dev-therapist", recipients()), therapist()));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->message().seq(), 2);
  EXPECT_EQ(messages(conv).size(), 2u);
}

TEST_F(MessagingServiceTest, TheDevicesAnswerCarriesTheParticipantsIdentityKeysAsIdentityGivesThem) {
  // The client has an identity key, the therapist none yet; another client of the
  // practice has one too, which is not this conversation's business.
  const std::string client_key = random_bytes(32);
  const std::string therapist_key = random_bytes(32);
  directory_.set_identity_key(kClient, client_key);
  directory_.set_identity_key(kClient2, random_bytes(32));
  const auto conv = open();
  using Keys = std::vector<std::pair<std::string, std::string>>;  // (user id, public key)
  auto keys_of = [](const pb::ListRecipientsResponse& r) {
    Keys out;
    for (const auto& k : r.identity_keys()) {
      EXPECT_EQ(k.set_unix_ms(), 3) << k.user_id();
      out.emplace_back(k.user_id(), k.public_key());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  auto listed = [&](bool include_inactive) {
    pb::ListRecipientsRequest req;
    req.set_conversation_id(conv);
    req.set_include_inactive(include_inactive);
    auto r = run(service_->list_recipients(req, therapist()));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? keys_of(*r) : Keys{};
  };
  EXPECT_EQ(listed(false), (Keys{{kClient, client_key}}));
  EXPECT_EQ(listed(true), (Keys{{kClient, client_key}}));

  directory_.set_identity_key(kTherapist, therapist_key);
  EXPECT_EQ(listed(false), (Keys{{kClient, client_key}, {kTherapist, therapist_key}}));
  // A stale send's refusal carries them with the current list.
  auto stale = send(client(), sealed(conv, "stale", "dev-client-phone", {"dev-client-phone", "dev-therapist"}));
  ASSERT_FALSE(stale.ok());
  pb::SendMessageResponse detail;
  ASSERT_TRUE(detail.ParseFromString(stale.error().detail));
  EXPECT_EQ(keys_of(detail.recipients()), (Keys{{kClient, client_key}, {kTherapist, therapist_key}}));
}

TEST_F(MessagingServiceTest, NoSendIsRefusedAsStaleOnACachedList) {
  // Identity's announcements were missed (Redis down), so the directory cache keeps
  // its list for up to its TTL. A send wrapped for the devices identity lists now
  // (a therapist's new device, without a client's revoked one) still goes through,
  // and a send stale by identity's own answer is refused with that answer.
  CachingDirectory cache(directory_, {.ttl = 30s, .now_ms = [this] { return now_; }});
  auto service = service_over(cache);
  const auto conv = open();
  auto send_via_cache = [&](const std::string& id, const std::vector<std::string>& keys) {
    return run(service->send_message(sealed(conv, id, "dev-client-phone", keys), client()));
  };
  ASSERT_TRUE(send_via_cache("while-cached", recipients()).ok());
  directory_.add_device(kTherapist, "dev-therapist-tablet", "sess-therapist-tablet");
  directory_.revoke_device("dev-client-laptop");

  auto current = send_via_cache("for-the-current-list", recipients());
  ASSERT_TRUE(current.ok()) << current.error().message;
  EXPECT_EQ(current->message().seq(), 2);

  auto stale = send_via_cache("for-the-old-list", {"dev-client-phone", "dev-client-laptop", "dev-therapist"});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Code::kFailedPrecondition);
  pb::SendMessageResponse detail;
  ASSERT_TRUE(detail.ParseFromString(stale.error().detail));
  std::set<std::string> offered;
  for (const auto& d : detail.recipients().devices()) offered.insert(d.id());
  EXPECT_EQ(offered, (std::set<std::string>{"dev-client-phone", "dev-therapist", "dev-therapist-tablet"}));

  // The cache keeps identity's answer: the next send is checked without asking again.
  const auto misses = cache.stats().misses;
  ASSERT_TRUE(send_via_cache("cached-again", recipients()).ok());
  EXPECT_EQ(cache.stats().misses, misses);
}

TEST_F(MessagingServiceTest, SenderDeviceMustBeTheCallingSessionsDevice) {
  const auto conv = open();
  // The laptop's id sent from the phone's session; a device nobody has.
  for (const char* device : {"dev-client-laptop", "dev-unknown"}) {
    auto r = send(client(), sealed(conv, "m-" + new_id(), device, recipients()));
    ASSERT_FALSE(r.ok()) << device;
    EXPECT_EQ(r.error().code, Code::kPermissionDenied) << device;
    EXPECT_EQ(r.error().field, "sender_device_id") << device;
  }
  // A session that registered no device cannot send.
  auto r = send(as(kClient, "client", "sess-without-device"),
                sealed(conv, "m-nodevice", "dev-client-phone", recipients()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kPermissionDenied);
  // Nor a revoked one.
  directory_.revoke_device("dev-client-phone");
  auto revoked = send(client(), sealed(conv, "m-revoked", "dev-client-phone", recipients()));
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.error().code, Code::kPermissionDenied);
  // Sync checks the device too.
  auto s = sync(therapist(), conv, "dev-client-laptop");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kPermissionDenied);
  EXPECT_EQ(s.error().field, "device_id");
  EXPECT_TRUE(messages(conv).empty());
}

TEST_F(MessagingServiceTest, OversizedCiphertextIsRefusedNamingTheLimit) {
  const auto conv = open();
  auto at_limit = send(client(), sealed(conv, "at-limit", "dev-client-phone", recipients(), random_bytes(65536)));
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  auto over = send(client(), sealed(conv, "over-limit", "dev-client-phone", recipients(), random_bytes(65537)));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Code::kInvalidArgument);
  EXPECT_EQ(over.error().field, "ciphertext");
  EXPECT_NE(over.error().message.find("65536"), std::string::npos) << over.error().message;
  auto tiny = send(client(), sealed(conv, "tiny", "dev-client-phone", recipients(), "short"));
  ASSERT_FALSE(tiny.ok());
  EXPECT_EQ(tiny.error().field, "ciphertext");
  EXPECT_EQ(messages(conv).size(), 1u);
}

TEST_F(MessagingServiceTest, MalformedSendsNameTheirField) {
  const auto conv = open();
  auto refused = [&](pb::SendMessageRequest req, const std::string& field) {
    auto r = send(client(), req);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << field << ": " << r.error().message;
    EXPECT_EQ(r.error().field, field) << r.error().message;
    EXPECT_EQ(r.error().message.rfind(field + ":", 0), 0u) << r.error().message;
  };
  for (const std::string& bad : {std::string(), std::string(65, 'a'), std::string("has space"),
                                std::string("semi;colon"), std::string("caf\xc3\xa9"), std::string("a\0b", 3),
                                std::string("../etc")}) {
    refused(sealed(conv, bad, "dev-client-phone", recipients()), "message_id");
  }
  EXPECT_TRUE(send(client(), sealed(conv, std::string(64, 'z'), "dev-client-phone", recipients())).ok());

  auto short_key = sealed(conv, "short-key", "dev-client-phone", recipients());
  short_key.mutable_keys(1)->set_wrapped_key(random_bytes(79));
  refused(short_key, "keys[1].wrapped_key");
  auto long_key = sealed(conv, "long-key", "dev-client-phone", recipients());
  long_key.mutable_keys(2)->set_wrapped_key(random_bytes(81));
  refused(long_key, "keys[2].wrapped_key");

  auto twice = sealed(conv, "twice", "dev-client-phone", {"dev-client-phone", "dev-therapist", "dev-therapist"});
  refused(twice, "keys[2].device_id");
  auto unnamed = sealed(conv, "unnamed", "dev-client-phone", {"dev-client-phone", ""});
  refused(unnamed, "keys[1].device_id");
  refused(sealed(conv, "no-keys", "dev-client-phone", {}), "keys");
  refused(sealed(conv, "no-sender", "", recipients()), "sender_device_id");
  refused(sealed("", "no-conv", "dev-client-phone", recipients()), "conversation_id");

  auto bad_sync = [&](std::int64_t after_seq, int limit, const std::string& field) {
    auto r = sync(client(), conv, "dev-client-phone", after_seq, limit);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    EXPECT_EQ(r.error().field, field) << r.error().message;
  };
  bad_sync(-1, 10, "after_seq");
  bad_sync(0, -1, "limit");
  bad_sync(0, 501, "limit");
  EXPECT_TRUE(sync(client(), conv, "dev-client-phone", 0, 500).ok());
  EXPECT_TRUE(sync(client(), conv, "dev-client-phone", 0, 1).ok());
  auto no_device = sync(client(), conv, "");
  ASSERT_FALSE(no_device.ok());
  EXPECT_EQ(no_device.error().field, "device_id");

  EXPECT_EQ(messages(conv).size(), 1u);  // only the 64-character id went through
}

TEST_F(MessagingServiceTest, SyncPagesInOrderWithOnlyTheReadingDevicesKey) {
  const auto conv = open();
  std::vector<pb::SendMessageRequest> sent;
  for (int i = 1; i <= 5; ++i) {
    sent.push_back(sealed(conv, "page-" + std::to_string(i), "dev-client-phone", recipients()));
    ASSERT_TRUE(send(client(), sent.back()).ok());
  }
  const auto laptop = as(kClient, "client", "sess-client-laptop");
  auto page = sync(laptop, conv, "dev-client-laptop", 2, 2);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->messages_size(), 2);
  EXPECT_EQ(page->last_seq(), 5);
  for (int i = 0; i < 2; ++i) {
    const auto& m = page->messages(i);
    const auto& req = sent[2 + i];
    EXPECT_EQ(m.seq(), 3 + i);
    EXPECT_EQ(m.message_id(), req.message_id());
    EXPECT_EQ(m.sender_user_id(), kClient);
    EXPECT_EQ(m.sender_device_id(), "dev-client-phone");
    EXPECT_EQ(m.kind(), "user");
    EXPECT_EQ(m.ciphertext(), req.ciphertext());
    ASSERT_EQ(m.keys_size(), 1);
    EXPECT_EQ(m.keys(0).device_id(), "dev-client-laptop");
    EXPECT_EQ(m.keys(0).wrapped_key(), key_for(req, "dev-client-laptop"));
  }
  auto rest = sync(laptop, conv, "dev-client-laptop", 4, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->messages_size(), 1);
  EXPECT_EQ(rest->messages(0).seq(), 5);
}

// A send's pushes: each participant gets the message with their own devices' keys
// only (the archive's key goes to neither), and the sender's answer carries none.
TEST_F(MessagingServiceTest, EachPushCarriesOnlyItsUsersKeysAndTheAnswerNone) {
  directory_.set_archive_key(kPractice, random_bytes(32));
  const auto conv = open();
  record_pushes({kClient, kTherapist});
  const auto req = sealed(conv, "keyed", "dev-client-phone", recipients());
  auto answer = send(client(), req);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->message().keys_size(), 0);
  EXPECT_EQ(answer->message().ciphertext(), req.ciphertext());
  ASSERT_TRUE(pump_until([&] { return pushed(kClient, "message.new") >= 1 && pushed(kTherapist, "message.new") >= 1; },
                         5s));
  const std::map<std::string, std::vector<std::string>> devices_of = {
      {kClient, {"dev-client-laptop", "dev-client-phone"}}, {kTherapist, {"dev-therapist"}}};
  for (const auto& [user, devices] : devices_of) {
    const auto pushed_to = pushed_messages(user);
    ASSERT_EQ(pushed_to.size(), 1u) << user;
    EXPECT_EQ(pushed_to[0].ciphertext(), req.ciphertext()) << user;
    std::vector<std::string> got;
    for (const auto& k : pushed_to[0].keys()) {
      got.push_back(k.device_id());
      EXPECT_EQ(k.wrapped_key(), key_for(req, k.device_id())) << user;
    }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, devices) << user;
  }
}

TEST_F(MessagingServiceTest, OutsidersFindNoConversationAndAdminsOnlyItsMetadata) {
  const auto conv = open();
  ASSERT_TRUE(client_says(conv, "private-1").ok());

  struct Outsider {
    std::string name;
    net::CallContext ctx;
    std::string device;
  };
  const std::vector<Outsider> outsiders = {
      {"front desk", as(kDesk, "front_desk", "sess-desk"), "dev-desk"},
      {"another client", as(kClient2, "client", "sess-client2"), "dev-client2"},
      {"another therapist", as(kTherapist2, "therapist", "sess-therapist2"), "dev-therapist2"},
      {"another practice's therapist", as(kOtherTherapist, "therapist", "sess-other-therapist", kOtherPractice),
       "dev-other-therapist"},
      // The client's own id, claimed from another practice's token.
      {"same user id, other practice", as(kClient, "client", "sess-client", kOtherPractice), "dev-client-phone"},
      {"admin", admin(), "dev-admin"},
  };
  for (const auto& o : outsiders) {
    SCOPED_TRACE(o.name);
    auto expect_not_found = [](const Status& s) {
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.error().code, Code::kNotFound);
      EXPECT_EQ(s.error().field, "conversation_id");
    };
    auto status = [](const auto& r) -> Status {
      if (r.ok()) return {};
      return r.error();
    };
    pb::GetConversationRequest get;
    get.set_conversation_id(conv);
    expect_not_found(status(run(service_->get_conversation(get, o.ctx))));
    expect_not_found(status(sync(o.ctx, conv, o.device)));
    pb::SendMessageRequest req = sealed(conv, "intrude-" + new_id(), o.device, recipients());
    expect_not_found(status(send(o.ctx, req)));
    pb::ListReceiptsRequest receipts;
    receipts.set_conversation_id(conv);
    expect_not_found(status(run(service_->list_receipts(receipts, o.ctx))));
    pb::AckDeliveredRequest ack;
    ack.set_conversation_id(conv);
    ack.set_device_id(o.device);
    ack.set_seq(1);
    expect_not_found(status(run(service_->ack_delivered(ack, o.ctx))));
    pb::MarkReadRequest read;
    read.set_conversation_id(conv);
    read.set_seq(1);
    expect_not_found(status(run(service_->mark_read(read, o.ctx))));
    pb::TypingRequest typing;
    typing.set_conversation_id(conv);
    typing.set_typing(true);
    expect_not_found(status(run(service_->set_typing(typing, o.ctx))));
    pb::ListRecipientsRequest devices;
    devices.set_conversation_id(conv);
    expect_not_found(status(run(service_->list_recipients(devices, o.ctx))));
  }
  // A conversation id nobody has answers the same.
  auto missing = sync(client(), "no-such-conversation", "dev-client-phone");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Code::kNotFound);

  // Nothing an outsider did reached the conversation.
  EXPECT_EQ(messages(conv).size(), 1u);

  // Lists: the admin sees the practice's conversations; the front desk is refused;
  // the other client and the other practice's admin see none of it.
  auto admin_list = run(service_->list_conversations({}, admin()));
  ASSERT_TRUE(admin_list.ok()) << admin_list.error().message;
  ASSERT_EQ(admin_list->conversations_size(), 1);
  EXPECT_EQ(admin_list->conversations(0).id(), conv);
  EXPECT_EQ(admin_list->conversations(0).last_seq(), 1);
  auto desk_list = run(service_->list_conversations({}, as(kDesk, "front_desk")));
  ASSERT_FALSE(desk_list.ok());
  EXPECT_EQ(desk_list.error().code, Code::kPermissionDenied);
  auto other_client = run(service_->list_conversations({}, as(kClient2, "client")));
  ASSERT_TRUE(other_client.ok());
  EXPECT_EQ(other_client->conversations_size(), 0);
  auto other_admin = run(service_->list_conversations({}, as(kOtherAdmin, "admin", "", kOtherPractice)));
  ASSERT_TRUE(other_admin.ok());
  EXPECT_EQ(other_admin->conversations_size(), 0);
  auto mine = run(service_->list_conversations({}, client()));
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->conversations_size(), 1);

  // Erasing: not the front desk, not a participant, not another practice's admin.
  pb::EraseConversationRequest erase;
  erase.set_conversation_id(conv);
  erase.set_reason("client request");
  for (const auto& ctx : {as(kDesk, "front_desk"), client(), therapist(),
                          as(kOtherAdmin, "admin", "", kOtherPractice)}) {
    auto r = run(service_->erase_conversation(erase, ctx));
    ASSERT_FALSE(r.ok()) << ctx.caller.user_id();
    EXPECT_EQ(r.error().code, Code::kNotFound) << ctx.caller.user_id();
  }
  EXPECT_FALSE(messages(conv).at(0).expired());
  // The practice's admin may.
  auto erased = run(service_->erase_conversation(erase, admin()));
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_TRUE(messages(conv).at(0).expired());
}

TEST_F(MessagingServiceTest, ARetriedErasureWithItsKeyAnswersTheFirstRecordAndRecordsNoSecond) {
  const auto conv = open();
  ASSERT_TRUE(client_says(conv, "m-erase-1").ok());
  pb::EraseConversationRequest erase;
  erase.set_conversation_id(conv);
  erase.set_reason("client request");
  erase.set_idempotency_key("erase-conv-0001");
  auto first = run(service_->erase_conversation(erase, admin()));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->replayed());
  EXPECT_EQ(first->record().messages_affected(), 1);

  auto again = run(service_->erase_conversation(erase, admin()));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->record().id(), first->record().id());
  EXPECT_EQ(again->record().messages_affected(), 1);
  auto records = run(service_->list_erasures({}, admin()));
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->records_size(), 1);

  erase.set_reason("another reason");  // the same key with another request
  auto reused = run(service_->erase_conversation(erase, admin()));
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().field, "idempotency_key");
  erase.set_idempotency_key("bad key");
  auto bad = run(service_->erase_conversation(erase, admin()));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad.error().field, "idempotency_key");
}

TEST_F(MessagingServiceTest, OpeningAConversationNeedsTheCareTeam) {
  pb::OpenConversationRequest req;
  req.set_client_id(kClient);
  req.set_therapist_id(kTherapist2);  // not on kClient's care team
  auto r = run(service_->open_conversation(req, client()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(r.error().field, "therapist_id");
  req.set_therapist_id(kOtherTherapist);  // another practice's
  r = run(service_->open_conversation(req, client()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_EQ(r.error().field, "therapist_id");
  req.set_therapist_id(kTherapist);  // the front desk may not open it for them
  r = run(service_->open_conversation(req, as(kDesk, "front_desk")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kPermissionDenied);
  // Both sides opening it get the one conversation.
  const auto by_client = open();
  auto by_therapist = run(service_->open_conversation(req, therapist()));
  ASSERT_TRUE(by_therapist.ok()) << by_therapist.error().message;
  EXPECT_EQ(by_therapist->conversation().id(), by_client);
}

TEST_F(MessagingServiceTest, FourthSendInAMinuteIsRateLimitedUntilTheNextMinute) {
  MessagingOptions options;
  options.send_rate_per_minute = 3;
  build_service(options);
  now_ = utc_ms(2030, 1, 7, 12, 0) + 10'000;  // 10 s into the minute
  const auto conv = open();
  pb::SendMessageRequest third;
  for (int i = 1; i <= 3; ++i) {
    third = sealed(conv, "rate-" + std::to_string(i), "dev-client-phone", recipients());
    auto r = send(client(), third);
    ASSERT_TRUE(r.ok()) << i << ": " << r.error().message;
  }
  auto fourth = client_says(conv, "rate-4");
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.error().code, Code::kResourceExhausted);
  EXPECT_GT(fourth.error().retry_after.count(), 0);
  EXPECT_LE(fourth.error().retry_after.count(), 60'000);
  EXPECT_EQ(fourth.error().retry_after.count(), 50'000);  // until the minute ends
  // A retry of an accepted message is not a new send: still answered.
  auto retry = send(client(), third);
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->message().seq(), 3);
  // The limit is per user: the therapist may still answer.
  EXPECT_TRUE(therapist_says(conv, "reply-1").ok());

  now_ += kMinuteMs;
  auto later = client_says(conv, "rate-4");
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->message().seq(), 5);
}

TEST_F(MessagingServiceTest, ReceiptCursorsOnlyMoveForwardAndNeverBeyondTheLastMessage) {
  const auto conv = open();
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(client_says(conv, "r-" + std::to_string(i)).ok());

  auto deliver = [&](std::int64_t seq) {
    pb::AckDeliveredRequest req;
    req.set_conversation_id(conv);
    req.set_device_id("dev-therapist");
    req.set_seq(seq);
    return run(service_->ack_delivered(req, therapist()));
  };
  auto read = [&](std::int64_t seq) {
    pb::MarkReadRequest req;
    req.set_conversation_id(conv);
    req.set_seq(seq);
    return run(service_->mark_read(req, therapist()));
  };
  auto d2 = deliver(2);
  ASSERT_TRUE(d2.ok()) << d2.error().message;
  EXPECT_EQ(d2->receipt().seq(), 2);
  EXPECT_EQ(d2->receipt().kind(), "delivered");
  auto d1 = deliver(1);
  ASSERT_TRUE(d1.ok());
  EXPECT_EQ(d1->receipt().seq(), 2);  // stays at 2
  auto r3 = read(3);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->receipt().seq(), 3);
  auto r1 = read(1);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->receipt().seq(), 3);

  for (auto r : {deliver(4), deliver(0)}) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    EXPECT_EQ(r.error().field, "seq");
  }
  auto beyond = read(4);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().field, "seq");
  // Delivered receipts are for the session's own device only.
  pb::AckDeliveredRequest foreign;
  foreign.set_conversation_id(conv);
  foreign.set_device_id("dev-client-phone");
  foreign.set_seq(1);
  auto not_mine = run(service_->ack_delivered(foreign, therapist()));
  ASSERT_FALSE(not_mine.ok());
  EXPECT_EQ(not_mine.error().code, Code::kPermissionDenied);

  // What both sides see.
  pb::GetConversationRequest get;
  get.set_conversation_id(conv);
  auto as_therapist = run(service_->get_conversation(get, therapist()));
  ASSERT_TRUE(as_therapist.ok());
  EXPECT_EQ(as_therapist->conversation().read_seq(), 3);
  EXPECT_EQ(as_therapist->conversation().peer_read_seq(), 0);
  EXPECT_EQ(as_therapist->conversation().last_seq(), 3);
  auto as_client = run(service_->get_conversation(get, client()));
  ASSERT_TRUE(as_client.ok());
  EXPECT_EQ(as_client->conversation().peer_read_seq(), 3);
  EXPECT_EQ(as_client->conversation().read_seq(), 0);
  pb::ListReceiptsRequest list;
  list.set_conversation_id(conv);
  auto receipts = run(service_->list_receipts(list, client()));
  ASSERT_TRUE(receipts.ok());
  ASSERT_EQ(receipts->receipts_size(), 2);
  for (const auto& r : receipts->receipts()) {
    EXPECT_EQ(r.user_id(), kTherapist);
    EXPECT_EQ(r.seq(), r.kind() == "delivered" ? 2 : 3);
  }
}

TEST_F(MessagingServiceTest, SequenceContinuesAfterTheStoreIsReopened) {
  const auto conv = open();
  ASSERT_TRUE(client_says(conv, "before-restart-1").ok());
  ASSERT_TRUE(client_says(conv, "before-restart-2").ok());
  auto req = sealed(conv, "before-restart-3", "dev-client-phone", recipients());
  ASSERT_TRUE(send(client(), req).ok());

  ASSERT_NO_FATAL_FAILURE(reopen_store());

  auto retry = send(client(), req);
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->message().seq(), 3);
  auto next = client_says(conv, "after-restart");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->message().seq(), 4);
  EXPECT_EQ(messages(conv).size(), 4u);
}

}  // namespace
}  // namespace alliance::messaging
