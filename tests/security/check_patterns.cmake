# cmake -D BINARY=<gtest binary> -D PATTERNS=<a:b:c> -P check_patterns.cmake
# Fails naming each gtest filter pattern that matches no test of BINARY.
string(REPLACE ":" ";" patterns "${PATTERNS}")
set(missing)
foreach(p IN LISTS patterns)
  execute_process(COMMAND "${BINARY}" --gtest_list_tests "--gtest_filter=${p}"
                  OUTPUT_VARIABLE listed RESULT_VARIABLE rc)
  # Test names are the indented lines of --gtest_list_tests.
  if(NOT rc EQUAL 0 OR NOT listed MATCHES "\n  [A-Za-z0-9_]")
    list(APPEND missing "${p}")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "security suite: no test matches ${missing} in ${BINARY}")
endif()
