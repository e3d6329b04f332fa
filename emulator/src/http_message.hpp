#pragma once
// A request as the emulator's server read it and the answer it sends: the
// one shape the cloud, the EC2 side and the signature verifiers share.

#include <map>
#include <string>

namespace rdns::emulator {

/// One HTTP request as the server read it.
struct Incoming {
  std::string method;
  std::string target;                          ///< "/?Action=..." as sent
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
};

/// What to send back; drop closes the connection without an answer.
struct Reply {
  int status = 200;
  std::string body;
  bool drop = false;
};

}  // namespace rdns::emulator
