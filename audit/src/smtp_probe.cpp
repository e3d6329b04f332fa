#include "smtp_probe.hpp"

#include <istream>
#include <map>
#include <memory>
#include <mutex>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <openssl/x509v3.h>

#include <util/ascii.hpp>

namespace rdns::audit {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A reply larger than this is not an SMTP server worth reading further.
constexpr std::size_t kMaxReply = 8192;

/// One client context per CA file, shared by every conversation: loading
/// the system's trust store for each would cost more than the handshake.
std::shared_ptr<asio::ssl::context> client_context(const std::string& ca_file) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<asio::ssl::context>> contexts;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& context = contexts[ca_file];
  if (!context) {
    context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    // Anything older than TLS 1.2 is a failed handshake: the finding says so.
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ignored;
    if (ca_file.empty()) {
      context->set_default_verify_paths(ignored);
    } else {
      context->load_verify_file(ca_file, ignored);
    }
  }
  return context;
}

/// The DNS names of a certificate's subject alternative names.
std::vector<std::string> certificate_names(X509* certificate) {
  std::vector<std::string> names;
  auto* alternatives = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (alternatives == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(alternatives) && names.size() < 20; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(alternatives, i);
    if (name->type != GEN_DNS) continue;
    const ASN1_STRING* text = name->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                       static_cast<std::size_t>(ASN1_STRING_length(text)));
  }
  GENERAL_NAMES_free(alternatives);
  return names;
}

/// One SMTP conversation; owns itself through the handlers it has pending.
class Conversation : public std::enable_shared_from_this<Conversation> {
 public:
  Conversation(asio::io_context& io, const IpAddress& ip, SmtpOptions options,
               std::vector<std::string> names, std::function<void(SmtpObservation&&)> done)
      : names_(std::move(names)),
        socket_(io),
        timer_(io),
        buffer_(kMaxReply),
        ip_(ip),
        options_(std::move(options)),
        done_(std::move(done)) {}

  void start() {
    const auto address =
        ip_.family() == Family::ipv4
            ? asio::ip::address(asio::ip::address_v4(static_cast<std::uint32_t>(ip_.value())))
            : asio::ip::address(asio::ip::address_v6([&] {
                asio::ip::address_v6::bytes_type bytes{};
                std::copy_n(ip_.bytes().begin(), 16, bytes.begin());
                return bytes;
              }()));
    arm_timer();
    socket_.async_connect(tcp::endpoint(address, options_.port),
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                            if (ec) return self->fail(ec, "connect");
                            self->read_reply([self](int code, const std::string& first_line) {
                              self->on_greeting(code, first_line);
                            });
                          });
  }

 private:
  using ReplyHandler = std::function<void(int code, const std::string& first_line)>;

  void arm_timer() {
    timer_.expires_after(options_.timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      self->timed_out_ = true;
      boost::system::error_code ignored;
      self->socket_.close(ignored);  // pending operations end with operation_aborted
    });
  }

  /// Reads one reply: lines "CODE-text" until "CODE text"; hands over the
  /// code and the text of the first line.
  void read_reply(ReplyHandler handler) {
    first_line_.clear();
    reply_lines_.clear();
    reply_code_ = 0;
    read_line(std::move(handler));
  }

  void read_line(ReplyHandler handler) {
    asio::async_read_until(socket_, buffer_, "\r\n",
                           [self = shared_from_this(), handler = std::move(handler)](
                               const boost::system::error_code& ec, std::size_t) mutable {
                             if (ec) return self->fail(ec, "read");
                             std::istream in(&self->buffer_);
                             std::string line;
                             std::getline(in, line);
                             if (!line.empty() && line.back() == '\r') line.pop_back();
                             if (line.size() < 3 ||
                                 !std::isdigit(static_cast<unsigned char>(line[0])) ||
                                 !std::isdigit(static_cast<unsigned char>(line[1])) ||
                                 !std::isdigit(static_cast<unsigned char>(line[2]))) {
                               return self->finish("not an SMTP reply");
                             }
                             const int code = std::stoi(line.substr(0, 3));
                             self->reply_lines_.push_back(line.size() > 4 ? line.substr(4) : "");
                             if (self->reply_code_ == 0) {
                               self->reply_code_ = code;
                               self->first_line_ = line.size() > 4 ? line.substr(4) : "";
                             }
                             if (line.size() > 3 && line[3] == '-')
                               return self->read_line(std::move(handler));
                             handler(self->reply_code_, self->first_line_);
                           });
  }

  void send(std::string command, std::function<void()> next) {
    auto text = std::make_shared<std::string>(std::move(command));
    asio::async_write(socket_, asio::buffer(*text),
                      [self = shared_from_this(), text, next = std::move(next)](
                          const boost::system::error_code& ec, std::size_t) {
                        if (ec) return self->fail(ec, "write");
                        next();
                      });
  }

  static std::string first_word(const std::string& text) {
    const auto end = text.find(' ');
    return text.substr(0, end);
  }

  void on_greeting(int code, const std::string& text) {
    if (code != 220) return finish("greeting was " + std::to_string(code), text);
    observation_.greeted = true;
    observation_.banner_name = first_word(text);
    arm_timer();
    send("EHLO " + options_.helo_name + "\r\n", [self = shared_from_this()] {
      self->read_reply([self](int reply, const std::string& line) {
        self->observation_.ehlo_code = reply;
        if (reply == 250) self->observation_.ehlo_name = first_word(line);
        for (const std::string& extension : self->reply_lines_) {
          if (reply == 250 && ascii_upper(first_word(extension)) == "STARTTLS") {
            self->observation_.starttls_offered = true;
          }
        }
        self->arm_timer();
        if (self->observation_.starttls_offered) return self->start_tls();
        self->send("QUIT\r\n", [self] { self->finish({}); });
      });
    });
  }

  void start_tls() {
    observation_.tls.emplace();
    send("STARTTLS\r\n", [self = shared_from_this()] {
      self->read_reply([self](int reply, const std::string& line) {
        if (reply != 220) {
          self->observation_.tls->failure =
              "STARTTLS answered " + std::to_string(reply) + " " + line.substr(0, 80);
          return self->send("QUIT\r\n", [self] { self->finish({}); });
        }
        self->handshake();
      });
    });
  }

  void handshake() {
    context_ = client_context(options_.ca_file);
    tls_.emplace(socket_, *context_);
    // SNI (SSL_set_tlsext_host_name is a macro with a C cast).
    if (!names_.empty()) {
      SSL_ctrl(tls_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(names_.front().c_str()));
    }
    tls_->set_verify_mode(asio::ssl::verify_peer);
    // Every certificate is looked at: what is wrong with it is a finding,
    // not a reason to stop the conversation.
    // `this`, not a shared pointer: the stream keeps the callback, so a
    // shared pointer would keep the conversation alive forever. The
    // handshake's own handler holds the conversation while it may be called.
    tls_->set_verify_callback([self = this](bool verified, asio::ssl::verify_context& context) {
      const int error = X509_STORE_CTX_get_error(context.native_handle());
      if (!verified && error != X509_V_ERR_CERT_HAS_EXPIRED &&
          self->observation_.tls->untrusted.empty()) {
        self->observation_.tls->untrusted = X509_verify_cert_error_string(error);
      }
      return true;
    });
    arm_timer();
    tls_->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this()](
                                                              const boost::system::error_code& ec) {
      TlsObservation& tls = *self->observation_.tls;
      if (ec) {
        tls.failure = self->timed_out_ ? std::string("timeout during the TLS handshake")
                                       : "TLS handshake: " + ec.message();
        return self->finish({});
      }
      tls.protocol = SSL_get_version(self->tls_->native_handle());
      if (X509* certificate = SSL_get1_peer_certificate(self->tls_->native_handle())) {
        tls.names = certificate_names(certificate);
        for (const std::string& name : self->names_) {
          if (X509_check_host(certificate, name.data(), name.size(), 0, nullptr) == 1) {
            tls.name_matches = true;
          }
        }
        int days = 0;
        int seconds = 0;
        if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(certificate)) == 1) {
          tls.days_left = days - (seconds < 0 ? 1 : 0);
        }
        X509_free(certificate);
      }
      self->arm_timer();
      auto quit = std::make_shared<std::string>("QUIT\r\n");
      asio::async_write(
          *self->tls_, asio::buffer(*quit),
          [self, quit](const boost::system::error_code&, std::size_t) { self->finish({}); });
    });
  }

  void fail(const boost::system::error_code& ec, const char* step) {
    if (timed_out_) return finish(std::string("timeout during ") + step);
    if (ec == asio::error::eof) return finish(std::string("connection closed during ") + step);
    finish(std::string(step) + ": " + ec.message());
  }

  void finish(std::string failure, const std::string& /*reply*/ = {}) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    observation_.failure = std::move(failure);
    done_(std::move(observation_));
  }

  std::vector<std::string> names_;  ///< the host names the certificate should cover
  tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> context_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  IpAddress ip_;
  SmtpOptions options_;
  std::function<void(SmtpObservation&&)> done_;
  SmtpObservation observation_;
  std::string first_line_;
  std::vector<std::string> reply_lines_;  ///< the text of each line of the reply
  int reply_code_ = 0;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

void probe_smtp(asio::io_context& io, const IpAddress& ip, const SmtpOptions& options,
                std::vector<std::string> names, std::function<void(SmtpObservation&&)> done) {
  std::make_shared<Conversation>(io, ip, options, std::move(names), std::move(done))->start();
}

}  // namespace rdns::audit
