// rdns-cloud-emulator: a local stand-in for the Alibaba Cloud DNS/VPC/ECS
// APIs on 127.0.0.1, so PTR provisioning can be tried and tested without an
// account. See docs/emulator.md.

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "src/cloud.hpp"
#include "src/ec2.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

constexpr const char* kUsage =
    "usage: rdns-cloud-emulator --state FILE [--listen 127.0.0.1:PORT]\n"
    "                           [--resolver 127.0.0.1:PORT] [--knot 127.0.0.1:PORT]\n"
    "\n"
    "Serves the PTR, EIP and instance actions of docs/cloud.md, and EC2's Elastic\n"
    "IP reverse DNS actions, on 127.0.0.1 with the accounts of the state file\n"
    "(format: docs/emulator.md). Prints \"listening on 127.0.0.1:PORT\" once ready;\n"
    "logs one line per request to stderr.\n";

std::mutex log_mutex;

void log_line(const std::string& line) {
  std::lock_guard lock(log_mutex);
  std::cerr << "rdns-cloud-emulator: " << line << std::endl;
}

// One connection: keep-alive requests answered in turn until the peer closes.
void serve_connection(tcp::socket socket, rdns::emulator::Cloud& cloud,
                      rdns::emulator::Ec2Api& ec2) {
  cloud.count_connection();
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request<http::string_body> request;
    http::read(socket, buffer, request, ec);
    if (ec) break;
    rdns::emulator::Incoming incoming;
    incoming.method = std::string(request.method_string());
    incoming.target = std::string(request.target());
    incoming.body = request.body();
    for (const auto& field : request) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      incoming.headers[name] = std::string(field.value());
    }
    rdns::emulator::Reply reply;
    try {
      reply =
          rdns::emulator::Ec2Api::accepts(incoming) ? ec2.handle(incoming) : cloud.handle(incoming);
    } catch (const std::exception& failure) {
      log_line(std::string("internal error: ") + failure.what());
      reply = {500, R"({"Code":"InternalError","Message":"emulator failure","RequestId":"-"})"};
    }
    if (reply.drop) break;  // no answer: the client sees the connection close
    http::response<http::string_body> response{static_cast<http::status>(reply.status),
                                               request.version()};
    response.set(http::field::server, "rdns-cloud-emulator");
    // EC2 answers in XML, everything else in JSON.
    response.set(http::field::content_type, reply.body.starts_with("<?xml")
                                                ? "text/xml;charset=UTF-8"
                                                : "application/json;charset=utf-8");
    response.keep_alive(request.keep_alive());
    response.body() = std::move(reply.body);
    response.prepare_payload();
    http::write(socket, response, ec);
    if (ec || !response.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

tcp::endpoint loopback_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  const std::string host = text.substr(0, colon);
  const auto address = boost::asio::ip::make_address_v4(host);
  // A person may run this by hand; it must never be reachable from outside.
  if (!address.is_loopback()) throw std::runtime_error("--listen must be on 127.0.0.0/8");
  const int port = colon == std::string::npos ? 0 : std::stoi(text.substr(colon + 1));
  return {address, static_cast<unsigned short>(port)};
}

}  // namespace

int main(int argc, char** argv) {
  std::string state_file;
  std::string listen;
  std::string resolver;
  std::string knot;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--state" && has_value) {
      state_file = argv[++i];
    } else if (arg == "--listen" && has_value) {
      listen = argv[++i];
    } else if (arg == "--resolver" && has_value) {
      resolver = argv[++i];
    } else if (arg == "--knot" && has_value) {
      knot = argv[++i];
    } else {
      std::cerr << kUsage;
      return 2;
    }
  }
  if (state_file.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  try {
    std::ifstream in(state_file);
    if (!in) throw std::runtime_error("cannot read " + state_file);
    std::stringstream text;
    text << in.rdbuf();
    const auto document = rdns::emulator::Json::parse(text.str(), nullptr, false);
    if (document.is_discarded()) throw std::runtime_error(state_file + " is not valid JSON");
    auto config = rdns::emulator::EmulatorConfig::from_json(document, state_file);
    if (!listen.empty()) config.listen = listen;
    if (!resolver.empty()) config.resolver = resolver;
    if (!knot.empty()) config.knot = knot;

    boost::asio::io_context io;
    tcp::acceptor acceptor(io, loopback_endpoint(config.listen));
    rdns::emulator::Cloud cloud(config, &log_line);
    rdns::emulator::Ec2Api ec2(rdns::emulator::Ec2Config::from_json(document, state_file), config,
                               &log_line);
    const auto bound = acceptor.local_endpoint();
    std::cout << "listening on " << bound.address().to_string() << ":" << bound.port() << std::endl;
    for (;;) {
      tcp::socket socket(io);
      acceptor.accept(socket);
      // A thread per connection: slow-answer faults block only their own client.
      std::thread(serve_connection, std::move(socket), std::ref(cloud), std::ref(ec2)).detach();
    }
  } catch (const std::exception& failure) {
    std::cerr << "rdns-cloud-emulator: " << failure.what() << "\n";
    return 3;
  }
}
