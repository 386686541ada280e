#pragma once
// The message of an expected palsim::InputError, for the tests of readers and
// checks whose errors must name what is wrong.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"

namespace palsim_test {

// The message of the InputError `f` throws ("" and a test failure if none).
template <typename F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const palsim::InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError";
  return "";
}

}  // namespace palsim_test
