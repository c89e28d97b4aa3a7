#!/usr/bin/env bash
# Every Catch2 test case of a test binary is a ctest test of its own. catch_discover_tests
# splits the binary's list of names on ';' (a CMake list separator), so one name holding a ';'
# silently glues every later case into one test that matches nothing and passes. This check
# compares the binary's own list with the tests ctest registered under its prefix.
# Usage: catch_registration.sh BUILD_TESTS_DIR BINARY PREFIX
set -uo pipefail
dir=$1 binary=$2 prefix=$3
names=$("$dir/$binary" --list-test-names-only | grep -c .)
if grep -q "[][;]" <("$dir/$binary" --list-test-names-only); then
  echo "FAILED: $binary has a test case name with ';', '[' or ']' (catch_discover_tests splits on ';', which brackets hide):"
  "$dir/$binary" --list-test-names-only | grep '[][;]'
  exit 1
fi
registered=$(cd "$dir" && ctest -N 2>/dev/null | grep -c " ${prefix}")
echo "$binary: $names test cases, $registered registered with ctest as ${prefix}*"
[[ $names -eq $registered ]]
