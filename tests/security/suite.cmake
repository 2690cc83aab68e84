# The security suite: every test that reproduces an attack found against Alliance and
# shows it refused, by test binary (gtest filter patterns). They stay beside the code
# they test; alliance_discover_tests() registers them with the label "security", so
#   ctest -L security          runs exactly this suite (scripts/test runs it with the rest)
# and the test security_suite_is_complete fails if a pattern stops matching any test.
# README.md beside this file says which finding each one reproduces.
set(ALLIANCE_SECURITY_TESTS_integration_test
  BadInput.HundredKilobyteHeaderIsRefusedWith431
  BadInput.TenThousandSmallHeaderLinesAre431AndTheConnectionCloses
  BadInput.MoreThanAHundredHeaderFieldsAre431FewerAreServed
  BadInput.TransferEncodingOtherThanChunkedOrWithContentLengthIs400AndCloses
  BadInput.WebSocketUpgrade*
  PublicEdge.*
  SocketTokens.*
  EdgeErrors.*
  Secrets.*
  RedisTransport.*
  E2eTrust.*
  Foundation.RevokedSessionsSocketClosesWithinASecond
  People.*
  Scheduling.ATherapistBooksOnlyClientsOfTheirCareTeamUnlessThePracticeAllowsAny
  AllianceCtl.AdminDeactivatesRenamesChangesTheRoleOfAndResetsThePasswordOfAUser
  TwoFactor.EnrolledUserSignsInWithACodeThatWorksOnceAndRecoveryCodesThatWorkOnce
  TwoFactor.WrongCodesBackOffLikeWrongPasswordsAndAProvenPasswordDoesNotClearThem
  TwoFactor.PracticePolicyMakesStaffEnrolAtSignInAndAnAdminResetEndsSessions
  AuditLog.*
  PersonalDataAtRest.*
  KekAtStart.*)
set(ALLIANCE_SECURITY_TESTS_checkins_integration_test Checkins.* CheckinExpiry.*)
set(ALLIANCE_SECURITY_TESTS_reminders_domain_test Checkin*.*)
set(ALLIANCE_SECURITY_TESTS_gateway_test HeaderBudget.* SocketFrames.* JsonMapping.PercentDecoded* PushHubLimits.*)
set(ALLIANCE_SECURITY_TESTS_identity_test
  LoginBurstTest.* HashSlotsTest.* IdentityPeersTest.* RetryTest.* IdentityServiceTest.Backoff*
  IdentityServiceTest.WrongPasswordAndUnknownUserAnswerTheSame IdentityBinaryTest.FilesItCreatesAreReadableByItsUserOnly
  IdentityBinaryTest.ScryptCostBelowTheFloorIsRefusedNamingTheKey
  UserAdminTest.* IdentityDomain.DisplayNameRefusesBidiOverridesC1ControlsAndBadUtf8AndCountsCharacters
  TwoFactorSeal.* TwoFactorServiceTest.*
  AuditTamperTest.* AuditPruneTest.* PersonalDataTest.*)
set(ALLIANCE_SECURITY_TESTS_net_test Breaker.* RpcTest.CallsFailFast* RpcTest.MethodTable* DevCerts.AcceptedByPeersWhoseClockIsBehind)
set(ALLIANCE_SECURITY_TESTS_redis_test AclTest.* RedisOptionsTest.* RedisTlsTest.*)
set(ALLIANCE_SECURITY_TESTS_scheduling_service_test
  EventFeedTest.RemindersMayReadOnlyTheFeed* SchedulingServiceTest.ATherapistBooksOnlyClientsOfTheirCareTeam*
  SchedulingServiceTest.NothingNewIsBookedForADeactivatedClient* WaitlistTest.TheFrontDeskCannotPutADeactivatedClient*
  SeriesMoveTest.ARetryWithItsKey* SchedulingServiceTest.ARetriedTypeCreate* SchedulingAuditTest.* SealedTextTest.*)
set(ALLIANCE_SECURITY_TESTS_scheduling_domain_test IcsFeed.LineBreaks* IcsFeed.ACarriageReturn* IcsFeed.NamesOfAnyLength*)
set(ALLIANCE_SECURITY_TESTS_messaging_service_test MessagingServiceTest.ARetriedErasureWithItsKey*)
set(ALLIANCE_SECURITY_TESTS_client_test
  SealedConversation.* HandBuiltHeaders.* Trust*.* VerifyRecipients.* ApprovalCode.* CertifyDevice.* IdentityBox.*
  OpenWireMessage.* PushHandling.*)

# gtest_discover_tests for `target`, the suite's tests labelled "security" and the rest
# not, each test registered once. Options: DISCOVERY_TIMEOUT seconds, TIMEOUT seconds.
function(alliance_discover_tests target)
  cmake_parse_arguments(ARG "" "DISCOVERY_TIMEOUT;TIMEOUT" "" ${ARGN})
  set(common)
  if(ARG_DISCOVERY_TIMEOUT)
    list(APPEND common DISCOVERY_TIMEOUT ${ARG_DISCOVERY_TIMEOUT})
  endif()
  set(timeout)
  if(ARG_TIMEOUT)
    set(timeout TIMEOUT ${ARG_TIMEOUT})
  endif()
  set(patterns ${ALLIANCE_SECURITY_TESTS_${target}})
  if(NOT patterns)
    if(timeout)
      gtest_discover_tests(${target} ${common} PROPERTIES ${timeout})
    else()
      gtest_discover_tests(${target} ${common})
    endif()
    return()
  endif()
  list(JOIN patterns ":" filter)
  gtest_discover_tests(${target} ${common} TEST_FILTER "${filter}" PROPERTIES LABELS security ${timeout})
  if(timeout)
    gtest_discover_tests(${target} ${common} TEST_FILTER "-${filter}" PROPERTIES ${timeout})
  else()
    gtest_discover_tests(${target} ${common} TEST_FILTER "-${filter}")
  endif()
  # Every pattern must still name at least one test (a renamed test would drop out).
  add_test(NAME security_suite_is_complete_${target}
           COMMAND ${CMAKE_COMMAND} -D "BINARY=$<TARGET_FILE:${target}>" -D "PATTERNS=${filter}"
                   -P ${PROJECT_SOURCE_DIR}/tests/security/check_patterns.cmake)
  set_tests_properties(security_suite_is_complete_${target} PROPERTIES LABELS security)
endfunction()
