#pragma once
/// The SMTP banner and EHLO check: connect to port 25 (or the configured
/// port), read the greeting, send EHLO, read the reply, send QUIT. It never
/// sends mail. Asynchronous on the audit's io_context.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>

#include <audit/auditor.hpp>
#include <audit/ip.hpp>
#include <audit/observation.hpp>

namespace rdns::audit {

/// Talks to one address and reports what it said.
void probe_smtp(boost::asio::io_context& io, const IpAddress& ip, const SmtpOptions& options,
                std::function<void(SmtpObservation&&)> done);

}  // namespace rdns::audit
