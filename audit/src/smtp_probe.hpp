#pragma once
/// The SMTP banner, EHLO and STARTTLS check: connect to port 25 (or the
/// configured port), read the greeting, send EHLO, read the reply; when it
/// offers STARTTLS, make the TLS handshake and look at the certificate; send
/// QUIT. It never sends mail. Asynchronous on the audit's io_context.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <audit/auditor.hpp>
#include <audit/ip.hpp>
#include <audit/observation.hpp>

namespace rdns::audit {

/// Talks to one address and reports what it said. When the server offers
/// STARTTLS, the handshake is made and the certificate checked against
/// `names` (the MX host names and PTR names the address should answer for).
void probe_smtp(boost::asio::io_context& io, const IpAddress& ip, const SmtpOptions& options,
                std::vector<std::string> names, std::function<void(SmtpObservation&&)> done);

}  // namespace rdns::audit
