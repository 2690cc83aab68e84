// Which pushed messages a device stores at once, ignores, or must sync first.
#include <gtest/gtest.h>

#include "alliance/client/sequence_tracker.hpp"

namespace alliance::client {
namespace {

using Verdict = SequenceTracker::Verdict;

TEST(SequenceTracker, AnUnknownConversationWantsSeqOneNext) {
  SequenceTracker t;
  EXPECT_EQ(t.last("c"), 0);
  EXPECT_EQ(t.classify("c", 1), Verdict::kNext);
  EXPECT_EQ(t.classify("c", 2), Verdict::kGap);
  EXPECT_EQ(t.classify("c", 0), Verdict::kDuplicate);
}

TEST(SequenceTracker, NextDuplicateAndGapAfterAdvancing) {
  SequenceTracker t;
  EXPECT_TRUE(t.advance("c", 1));
  EXPECT_TRUE(t.advance("c", 2));
  EXPECT_EQ(t.last("c"), 2);
  EXPECT_EQ(t.classify("c", 3), Verdict::kNext);
  EXPECT_EQ(t.classify("c", 2), Verdict::kDuplicate);
  EXPECT_EQ(t.classify("c", 1), Verdict::kDuplicate);
  EXPECT_EQ(t.classify("c", 5), Verdict::kGap);
}

TEST(SequenceTracker, OnlyMovesForward) {
  SequenceTracker t;
  EXPECT_TRUE(t.advance("c", 7));
  EXPECT_FALSE(t.advance("c", 3));
  EXPECT_FALSE(t.advance("c", 7));
  EXPECT_EQ(t.last("c"), 7);
  EXPECT_FALSE(t.advance("d", 0));
  EXPECT_FALSE(t.advance("d", -4));
  EXPECT_EQ(t.last("d"), 0);
}

TEST(SequenceTracker, ConversationsAreIndependent) {
  SequenceTracker t;
  t.advance("a", 10);
  EXPECT_EQ(t.classify("b", 1), Verdict::kNext);
  EXPECT_EQ(t.classify("a", 11), Verdict::kNext);
  EXPECT_EQ(t.last("b"), 0);
}

TEST(SequenceTracker, ResetRestoresAStoredCursorEvenBackwards) {
  SequenceTracker t;
  t.reset("c", 4);
  EXPECT_EQ(t.classify("c", 5), Verdict::kNext);
  t.reset("c", 2);
  EXPECT_EQ(t.last("c"), 2);
  EXPECT_EQ(t.classify("c", 3), Verdict::kNext);
}

TEST(SequenceTracker, HugeSeqIsAGapNotAnOverflow) {
  SequenceTracker t;
  t.advance("c", 3);
  EXPECT_EQ(t.classify("c", INT64_MAX), Verdict::kGap);
}

}  // namespace
}  // namespace alliance::client
