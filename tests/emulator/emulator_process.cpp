#include "emulator_process.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lab/dns_lab.hpp>
#include <lab/ldns.hpp>

#include "test_paths.hpp"

namespace rdns::test {
namespace {

using namespace std::chrono_literals;

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Frees an ldns resolver.
struct ResolverDeleter {
  void operator()(ldns_resolver* resolver) const { ldns_resolver_deep_free(resolver); }
};

std::unique_ptr<ldns_resolver, ResolverDeleter> authority_resolver() {
  std::unique_ptr<ldns_resolver, ResolverDeleter> resolver(ldns_resolver_new());
  ldns_rdf* address = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
  ldns_resolver_push_nameserver(resolver.get(), address);
  ldns_rdf_deep_free(address);
  ldns_resolver_set_port(resolver.get(), lab::emulator_lab().authority_port());
  ldns_resolver_set_retry(resolver.get(), 2);
  ldns_resolver_set_timeout(resolver.get(), timeval{1, 0});
  return resolver;
}

}  // namespace

std::string standard_state() {
  return std::string(R"({
  "dns": {"zones": ["100.51.198.in-addr.arpa"]},
  "billing": {"daily_fee": 1.0, "currency": "CNY"},
  "accounts": [
    {"id": "1001",
     "access_keys": [{"id": ")") +
         kKeyId + R"(", "secret": ")" + kPlantedSecret + R"("},
                     {"id": ")" +
         kStsKeyId + R"(", "secret": ")" + kStsSecret + R"(", "sts_token": ")" + kStsToken + R"("}],
     "regions": {
       "cn-hangzhou": {
         "eips": [{"ip": "198.51.100.10", "allocation_id": "eip-10", "instance_id": "i-mail"},
                  {"ip": "198.51.100.11", "allocation_id": "eip-11"}],
         "instances": [{"id": "i-web", "public_ips": ["198.51.100.20", "198.51.100.21"]}]},
       "cn-shanghai": {"eips": [{"ip": "198.51.100.40", "allocation_id": "eip-40"}]}}},
    {"id": "2002",
     "access_keys": [{"id": ")" +
         kOtherKeyId + R"(", "secret": ")" + kOtherSecret + R"("}],
     "regions": {"cn-hangzhou": {"eips": [{"ip": "198.51.100.30", "allocation_id": "eip-30"}]}}}
  ]
})";
}

EmulatorProcess::EmulatorProcess(const std::string& state_json) {
  auto& lab = lab::emulator_lab();
  std::string pattern = (std::filesystem::temp_directory_path() / "rdns-emu-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  work_dir_ = pattern;
  const auto state = work_dir_ / "state.json";
  std::ofstream(state) << state_json;

  const std::vector<std::string> args = {rdns::test::emulator_binary(),
                                         "--state",
                                         state.string(),
                                         "--listen",
                                         "127.0.0.1:0",
                                         "--resolver",
                                         lab.resolver_address(),
                                         "--knot",
                                         lab.authority_address()};
  std::vector<char*> raw;
  for (const auto& arg : args) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const int log_fd =
      ::open((work_dir_ / "emulator.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  ::close(log_fd);
  // The first stdout line says where it listens.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd ready{pipe_fds[0], POLLIN, 0};
    if (::poll(&ready, 1, 100) <= 0) continue;
    std::array<char, 256> chunk{};
    const ssize_t got = ::read(pipe_fds[0], chunk.data(), chunk.size());
    if (got <= 0) break;
    line.append(chunk.data(), static_cast<std::size_t>(got));
  }
  ::close(pipe_fds[0]);
  const auto colon = line.rfind(':');
  if (!line.starts_with("listening on 127.0.0.1:") || colon == std::string::npos) {
    throw std::runtime_error("emulator did not start: " + line +
                             read_all(work_dir_ / "emulator.log"));
  }
  port_ = std::stoi(line.substr(colon + 1));
  std::ofstream(work_dir_ / "stdout.log") << line;
}

EmulatorProcess::~EmulatorProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(work_dir_, ignored);
}

std::string EmulatorProcess::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string EmulatorProcess::admin(const std::string& method, const std::string& path,
                                   const std::string& body) const {
  CURL* curl = curl_easy_init();
  std::string response;
  const std::string url = endpoint() + "/_emulator/" + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  if (!body.empty()) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  const CURLcode result = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  if (result != CURLE_OK) throw std::runtime_error("admin call failed: " + path);
  return response;
}

std::string EmulatorProcess::output() const {
  return read_all(work_dir_ / "stdout.log") + read_all(work_dir_ / "emulator.log");
}

provision::ClientConfig EmulatorProcess::client_config() const {
  provision::ClientConfig config;
  config.region = kRegion;
  config.endpoint = endpoint();
  config.scope = provision::NetworkScope::loopback_only;
  config.connect_timeout = 1000ms;
  config.request_timeout = 2000ms;
  config.retry.max_attempts = 4;
  config.retry.base_delay = 40ms;
  config.retry.max_delay = 400ms;
  return config;
}

provision::Credentials credentials(const std::string& id, const std::string& secret,
                                   const std::string& token) {
  provision::Credentials result;
  result.access_key_id = id;
  result.access_key_secret = provision::Secret(secret);
  result.security_token = provision::Secret(token);
  result.origin = "test";
  return result;
}

provision::Credentials test_credentials() {
  return credentials(kKeyId, kPlantedSecret);
}

namespace {

/// Replaces the RRset (fqdn, type) in the emulator lab by one dynamic update
/// (TTL 1 s, so the resolver forgets it quickly); no records removes it.
void replace_rrset(const std::string& fqdn, ldns_rr_type type,
                   const std::vector<std::string>& records) {
  const std::string zone = fqdn.substr(fqdn.find('.') + 1);
  ldns_rr_list* updates = ldns_rr_list_new();
  ldns_rr* erase = ldns_rr_new();
  ldns_rr_set_owner(erase, ldns_dname_new_frm_str((fqdn + ".").c_str()));
  ldns_rr_set_type(erase, type);
  ldns_rr_set_class(erase, LDNS_RR_CLASS_ANY);
  ldns_rr_set_ttl(erase, 0);
  ldns_rr_list_push_rr(updates, erase);
  for (const auto& record : records) {
    ldns_rr* add = nullptr;
    if (ldns_rr_new_frm_str(&add, record.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
      ldns_rr_list_deep_free(updates);
      throw std::runtime_error("bad record " + record);
    }
    ldns_rr_list_push_rr(updates, add);
  }
  ldns_pkt* update = ldns_update_pkt_new(ldns_dname_new_frm_str((zone + ".").c_str()),
                                         LDNS_RR_CLASS_IN, nullptr, updates, nullptr);
  ldns_rr_list_deep_free(updates);
  ldns_pkt_set_rd(update, false);
  ldns_pkt_set_random_id(update);
  auto resolver = authority_resolver();
  ldns_pkt* answer = nullptr;
  const ldns_status status = ldns_resolver_send_pkt(&answer, resolver.get(), update);
  const bool ok = status == LDNS_STATUS_OK && answer != nullptr &&
                  ldns_pkt_get_rcode(answer) == LDNS_RCODE_NOERROR;
  ldns_pkt_free(answer);
  ldns_pkt_free(update);
  if (!ok) throw std::runtime_error("update refused for " + fqdn);
}

}  // namespace

void publish_txt(const std::string& fqdn, const std::string& value) {
  replace_rrset(fqdn, LDNS_RR_TYPE_TXT, {fqdn + ". 1 IN TXT \"" + value + "\""});
}

void publish_a(const std::string& fqdn, const std::vector<std::string>& addresses) {
  std::vector<std::string> records;
  for (const auto& address : addresses) records.push_back(fqdn + ". 1 IN A " + address);
  replace_rrset(fqdn, LDNS_RR_TYPE_A, records);
}

std::vector<std::string> authority_ptr(const std::string& name) {
  return lab::ptr_targets(lab::emulator_lab().authority_port(), name);
}

}  // namespace rdns::test
