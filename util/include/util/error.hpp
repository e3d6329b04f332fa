#pragma once
/// Errors that cross module boundaries. Modules throw rdns::Error with a
/// category and a message that names the input; cli/ maps the category to an
/// exit code. Expected DNS outcomes (NXDOMAIN, timeouts) are data, not errors.

#include <stdexcept>
#include <string>

namespace rdns {

/// What kind of failure, which decides the process exit code.
enum class Errc {
  usage,        ///< bad flags or arguments (exit 2)
  input,        ///< a bad target, file line or rules file (exit 2)
  database,     ///< a database refused or unusable (exit 2); the file is left untouched
  resolver,     ///< DNS resolution could not run at all (exit 3)
  io,           ///< reading or writing a file failed (exit 3)
  internal,     ///< a broken invariant (exit 3)
  credentials,  ///< no usable cloud credentials, or an unsafe credentials file (exit 2)
  cloud,        ///< the cloud API refused or failed a call (exit 3); see provision::ApiError
};

/// An error with its category; what() is the message shown to the user.
class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

}  // namespace rdns
