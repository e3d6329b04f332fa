#include "smtp_probe.hpp"

#include <istream>
#include <memory>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace rdns::audit {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A reply larger than this is not an SMTP server worth reading further.
constexpr std::size_t kMaxReply = 8192;

/// One SMTP conversation; owns itself through the handlers it has pending.
class Conversation : public std::enable_shared_from_this<Conversation> {
 public:
  Conversation(asio::io_context& io, const IpAddress& ip, SmtpOptions options,
               std::function<void(SmtpObservation&&)> done)
      : socket_(io),
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
        self->arm_timer();
        self->send("QUIT\r\n", [self] { self->finish({}); });
      });
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

  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  IpAddress ip_;
  SmtpOptions options_;
  std::function<void(SmtpObservation&&)> done_;
  SmtpObservation observation_;
  std::string first_line_;
  int reply_code_ = 0;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

void probe_smtp(asio::io_context& io, const IpAddress& ip, const SmtpOptions& options,
                std::function<void(SmtpObservation&&)> done) {
  std::make_shared<Conversation>(io, ip, options, std::move(done))->start();
}

}  // namespace rdns::audit
