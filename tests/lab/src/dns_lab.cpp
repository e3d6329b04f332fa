#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lab/dns_lab.hpp>
#include <lab/ldns.hpp>

#include "lab_process.hpp"

namespace rdns::lab {
namespace {

using namespace detail;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kReadyDeadline = 10s;
constexpr int kStartAttempts = 3;
constexpr const char* kLoopback = "127.0.0.1";

// Unbound answers these RFC 6303/6761 zones locally (NXDOMAIN) unless told
// not to. The samples live in the first four and in 127.in-addr.arpa (the
// loopback SMTP test hosts), and a test may well ask for a name under the
// last three; all go to Knot like every other name.
constexpr std::array<std::string_view, 8> kAlwaysNodefault = {
    "127.in-addr.arpa.",
    "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",
    "test.",
    "invalid.",
    "example.",
};

// Every IPv4 address outside 127.0.0.0/8, as CIDRs. Unbound refuses to send a
// query to any of them, so even a zone that names a real server cannot make
// the lab leave loopback (do-ip6 is off, so IPv6 needs no such list).
constexpr std::array<std::string_view, 8> kNotLoopback = {
    "0.0.0.0/2",   "64.0.0.0/3",  "96.0.0.0/4",  "112.0.0.0/5",
    "120.0.0.0/6", "124.0.0.0/7", "126.0.0.0/8", "128.0.0.0/1",
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Both config languages take double-quoted strings without a usable escape
// for these characters, so refuse them rather than write a broken config.
std::string quoted(const std::filesystem::path& path) {
  const std::string text = path.string();
  if (text.find_first_of("\"\n\\") != std::string::npos) {
    throw std::runtime_error("unsupported character in path: " + text);
  }
  return "\"" + text + "\"";
}

std::vector<std::string> discover_zones(const std::filesystem::path& zones_dir) {
  if (!std::filesystem::is_directory(zones_dir)) {
    throw std::runtime_error("zones directory not found: " + zones_dir.string());
  }
  std::vector<std::string> zones;
  for (const auto& entry : std::filesystem::directory_iterator(zones_dir)) {
    const auto& path = entry.path();
    if (!entry.is_regular_file() || path.extension() != ".zone") continue;
    zones.push_back(path.stem().string() + ".");
  }
  std::sort(zones.begin(), zones.end());
  return zones;
}

// Knot loads zones in the background after it starts answering; a zone is
// settled once its log says it loaded or failed to load (the broken sample
// zone must fail, and Knot then answers SERVFAIL for it).
bool all_zones_settled(const std::filesystem::path& log, const std::vector<std::string>& zones) {
  const std::string text = lower(read_file(log));
  return std::all_of(zones.begin(), zones.end(), [&](const std::string& zone) {
    const std::string tag = "[" + lower(zone) + "] ";
    return text.find(tag + "loaded") != std::string::npos ||
           text.find(tag + "zone event 'load' failed") != std::string::npos;
  });
}

bool has_upper(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isupper(c) != 0; });
}

std::string absolute_name(const std::string& name, const std::string& origin) {
  if (name == "@") return origin;
  if (name.ends_with('.')) return name;
  return origin == "." ? name + "." : name + "." + origin;
}

// Knot stores every name in lower case, so a PTR target written with capitals
// (the sample for case-insensitive comparison) would reach rdnsctl lower-cased.
// Every PTR set holding such a target is handed to unbound as local-data,
// which keeps the case and answers for that one owner name instead of Knot.
// Only simple one-line records with an explicit owner are read; that is all
// the samples need.
std::vector<std::string> case_kept_ptrs(const std::filesystem::path& zones_dir,
                                        const std::vector<std::string>& zones) {
  std::vector<std::string> local_data;
  for (const auto& zone : zones) {
    std::ifstream in(zones_dir / (zone.substr(0, zone.size() - 1) + ".zone"));
    std::string origin = zone;
    std::string default_ttl = "3600";
    // owner -> its PTR records in unbound's "owner ttl IN PTR target" form.
    std::vector<std::pair<std::string, std::string>> ptrs;
    std::vector<std::string> owners_with_capitals;
    for (std::string line; std::getline(in, line);) {
      line = line.substr(0, line.find(';'));
      if (line.find_first_of("\\\"()") != std::string::npos) continue;
      std::istringstream words(line);
      std::vector<std::string> tokens;
      for (std::string word; words >> word;) tokens.push_back(word);
      if (tokens.size() == 2 && tokens[0] == "$ORIGIN") origin = tokens[1];
      if (tokens.size() == 2 && tokens[0] == "$TTL") default_ttl = tokens[1];
      if (tokens.size() < 3 || std::isspace(static_cast<unsigned char>(line[0])) != 0 ||
          lower(tokens[tokens.size() - 2]) != "ptr") {
        continue;
      }
      std::string ttl = default_ttl;
      for (std::size_t i = 1; i + 2 < tokens.size(); ++i) {
        if (std::all_of(tokens[i].begin(), tokens[i].end(),
                        [](unsigned char c) { return std::isdigit(c) != 0; })) {
          ttl = tokens[i];
        }
      }
      const std::string owner = lower(absolute_name(tokens[0], origin));
      const std::string& target = tokens.back();
      ptrs.emplace_back(owner, owner + " " + ttl + " IN PTR " + absolute_name(target, origin));
      if (has_upper(target)) owners_with_capitals.push_back(owner);
    }
    for (const auto& [owner, record] : ptrs) {
      if (std::find(owners_with_capitals.begin(), owners_with_capitals.end(), owner) !=
          owners_with_capitals.end()) {
        local_data.push_back(record);
      }
    }
  }
  return local_data;
}

std::string knot_config(const std::filesystem::path& work, const std::filesystem::path& zones_dir,
                        const std::vector<std::string>& zones, std::uint16_t port,
                        Updates updates) {
  // semantic-checks off: the samples hold names a strict server rejects on
  // purpose. zonefile-sync -1: never write back into the checked-in samples.
  std::ostringstream out;
  out << "# Written by rdns_lab for one lab run; see tests/lab/src/dns_lab.cpp.\n"
      << "server:\n"
      << "    rundir: " << quoted(work) << "\n"
      << "    listen: " << kLoopback << "@" << port << "\n"
      << "    udp-workers: 1\n"
      << "    tcp-workers: 1\n"
      << "    background-workers: 1\n"
      << "database:\n"
      << "    storage: " << quoted(work) << "\n"
      << "log:\n"
      << "  - target: " << quoted(work / "knotd.log") << "\n"
      << "    any: info\n"
      << "template:\n"
      << "  - id: default\n"
      << "    storage: " << quoted(work) << "\n"
      << "    semantic-checks: off\n"
      << "    zonefile-sync: -1\n"
      << "    journal-content: none\n";
  if (updates == Updates::from_loopback) {
    out << "acl:\n"
        << "  - id: loopback_update\n"
        << "    address: 127.0.0.0/8\n"
        << "    action: update\n";
  }
  if (updates == Updates::tsig) {
    out << "key:\n"
        << "  - id: " << kLabTsigKeyName << "\n"
        << "    algorithm: hmac-sha256\n"
        << "    secret: " << kLabTsigSecret << "\n"
        << "  - id: " << kLabUpdateOnlyKeyName << "\n"
        << "    algorithm: hmac-sha256\n"
        << "    secret: " << kLabUpdateOnlySecret << "\n"
        << "acl:\n"
        << "  - id: loopback_update\n"
        << "    address: 127.0.0.0/8\n"
        << "    key: " << kLabTsigKeyName << "\n"
        << "    action: [update, transfer]\n"
        << "  - id: update_only\n"
        << "    address: 127.0.0.0/8\n"
        << "    key: " << kLabUpdateOnlyKeyName << "\n"
        << "    action: update\n";
  }
  out << "zone:\n"
      // An empty root, so a name outside every sample zone is NXDOMAIN.
      << "  - domain: \".\"\n"
      << "    file: " << quoted(work / "root.zone") << "\n";
  for (const auto& zone : zones) {
    out << "  - domain: \"" << zone << "\"\n"
        << "    file: " << quoted(zones_dir / (zone.substr(0, zone.size() - 1) + ".zone")) << "\n";
    if (updates == Updates::from_loopback) out << "    acl: loopback_update\n";
    if (updates == Updates::tsig) out << "    acl: [loopback_update, update_only]\n";
  }
  return out.str();
}

constexpr const char* kRootZone =
    "; Empty root served by the lab so unknown names end in NXDOMAIN locally.\n"
    "$ORIGIN .\n"
    "$TTL 3600\n"
    "@ SOA lab.invalid. hostmaster.lab.invalid. 1 3600 900 604800 300\n"
    "@ NS lab.invalid.\n";

std::string unbound_config(const std::filesystem::path& work,
                           const std::filesystem::path& zones_dir,
                           const std::vector<std::string>& zones, std::uint16_t port,
                           std::uint16_t knot_port, ResolverProfile profile,
                           const std::vector<StubZone>& elsewhere) {
  std::ostringstream out;
  out << "# Written by rdns_lab for one lab run; see tests/lab/src/dns_lab.cpp.\n"
      << "server:\n"
      << "    verbosity: 1\n"
      << "    interface: " << kLoopback << "\n"
      << "    port: " << port << "\n"
      << "    outgoing-interface: " << kLoopback << "\n"
      << "    do-ip4: yes\n"
      << "    do-ip6: no\n"
      << "    chroot: \"\"\n"
      << "    username: \"\"\n"
      << "    directory: " << quoted(work) << "\n"
      << "    pidfile: " << quoted(work / "unbound.pid") << "\n"
      << "    logfile: " << quoted(work / "unbound.log") << "\n"
      << "    use-syslog: no\n"
      << "    log-time-ascii: yes\n"
      << "    num-threads: 1\n"
      << "    so-reuseport: no\n";
  if (profile == ResolverProfile::small) out << "    outgoing-range: 64\n";
  if (profile == ResolverProfile::rate_limited) {
    // Factor 0: above the limit every query is dropped, none let through.
    out << "    ip-ratelimit: " << kLabRateLimitQps << "\n"
        << "    ip-ratelimit-factor: 0\n";
  }
  out << "    msg-cache-size: 4m\n"
      << "    rrset-cache-size: 8m\n"
      // No DNSSEC: the sample zones are unsigned and the root is fake.
      << "    module-config: \"iterator\"\n"
      << "    access-control: 127.0.0.0/8 allow\n"
      // Knot and the lame name server live on loopback.
      << "    do-not-query-localhost: no\n"
      << "    qname-minimisation: no\n"
      // The same order every run for multi-record answers (192.0.2.18's two PTRs).
      << "    rrset-roundrobin: no\n"
      << "    ede: yes\n";
  if (profile == ResolverProfile::small) {
    out
        // The lame delegation (203.0.113.0/24 -> 127.0.0.254, nothing listening):
        // by default unbound backs off to 6 s timeouts, concludes SERVFAIL after
        // ~18 s and then drops it as older than discard-timeout (1.9 s), so the
        // client never hears back. Capping the backoff gives SERVFAIL in ~2.3 s,
        // and later lookups fail at once while the dead server stays in the
        // infra cache; no discard-timeout lets that SERVFAIL reach the client.
        << "    infra-cache-max-rtt: 1000\n"
        << "    discard-timeout: 0\n";
  }
  for (const auto& cidr : kNotLoopback) out << "    do-not-query-address: " << cidr << "\n";
  std::vector<std::string> released(zones);
  released.insert(released.end(), kAlwaysNodefault.begin(), kAlwaysNodefault.end());
  for (const auto& stub : elsewhere) released.push_back(stub.zone);
  std::sort(released.begin(), released.end());
  released.erase(std::unique(released.begin(), released.end()), released.end());
  for (const auto& zone : released) out << "    local-zone: \"" << zone << "\" nodefault\n";
  for (const auto& record : case_kept_ptrs(zones_dir, zones)) {
    out << "    local-data: \"" << record << "\"\n";
  }
  out << "remote-control:\n"
      << "    control-enable: no\n";
  // "." last: every name unbound would send to a root server goes to Knot.
  std::vector<StubZone> stubs;
  const std::string knot = std::string(kLoopback) + "@" + std::to_string(knot_port);
  for (const auto& zone : zones) stubs.push_back({zone, knot});
  stubs.push_back({".", knot});
  for (const auto& stub : elsewhere) {
    std::erase_if(stubs, [&](const StubZone& known) { return known.zone == stub.zone; });
    stubs.push_back(stub);
  }
  for (const auto& stub : stubs) {
    out << "stub-zone:\n"
        << "    name: \"" << stub.zone << "\"\n"
        << "    stub-addr: " << stub.address << "\n";
  }
  return out.str();
}

}  // namespace

DnsLab::DnsLab(const std::filesystem::path& zones_dir, Updates updates, ResolverProfile profile,
               std::vector<StubZone> elsewhere)
    : zones_dir_(std::filesystem::absolute(zones_dir)),
      updates_(updates),
      profile_(profile),
      elsewhere_(std::move(elsewhere)),
      zones_(discover_zones(zones_dir_)),
      owner_pid_(::getpid()) {
  std::string pattern = (std::filesystem::temp_directory_path() / "rdns-lab-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error(system_error_text("mkdtemp"));
  work_dir_ = pattern;
  try {
    for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
      const std::string exited_server = start_once();
      if (exited_server.empty()) return;
      const std::string tail = log_tail(work_dir_ / (exited_server + ".log"));
      stop();
      if (attempt == kStartAttempts) {
        throw std::runtime_error("DNS lab: " + exited_server + " exited during startup, " +
                                 std::to_string(kStartAttempts) + " attempts\n" + tail);
      }
    }
  } catch (...) {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(work_dir_, ignored);
    throw;
  }
}

DnsLab::~DnsLab() {
  // A child forked from the test process (a test spawning rdnsctl) that exits
  // through exit() runs static destructors too; the lab belongs to the parent.
  if (::getpid() != owner_pid_) return;
  stop();
  if (!keep_work_dir_) {
    std::error_code ignored;
    std::filesystem::remove_all(work_dir_, ignored);
  }
}

std::string DnsLab::resolver_address() const {
  return std::string(kLoopback) + ":" + std::to_string(resolver_port_);
}

std::string DnsLab::authority_address() const {
  return std::string(kLoopback) + ":" + std::to_string(authority_port_);
}

std::string DnsLab::start_once() {
  authority_port_ = free_port(0);
  resolver_port_ = free_port(authority_port_);
  const auto knot_conf = work_dir_ / "knot.conf";
  const auto unbound_conf = work_dir_ / "unbound.conf";
  write_file(work_dir_ / "root.zone", kRootZone);
  write_file(knot_conf, knot_config(work_dir_, zones_dir_, zones_, authority_port_, updates_));
  write_file(unbound_conf, unbound_config(work_dir_, zones_dir_, zones_, resolver_port_,
                                          authority_port_, profile_, elsewhere_));

  const auto knot_log = work_dir_ / "knotd.log";
  const auto unbound_log = work_dir_ / "unbound.log";
  authority_pid_ = spawn({find_program("knotd", "RDNS_KNOTD"), "-c", knot_conf.string()}, knot_log);
  resolver_pid_ = spawn(
      {find_program("unbound", "RDNS_UNBOUND"), "-d", "-c", unbound_conf.string()}, unbound_log);

  std::vector<std::string> knot_zones(zones_);
  knot_zones.emplace_back(".");
  bool knot_ready = false;
  bool unbound_ready = false;
  const auto deadline = Clock::now() + kReadyDeadline;
  while (Clock::now() < deadline) {
    // A server that exits this early almost always lost its port to another process.
    if (exited(authority_pid_)) {
      authority_pid_ = -1;
      return "knotd";
    }
    if (exited(resolver_pid_)) {
      resolver_pid_ = -1;
      return "unbound";
    }
    if (!knot_ready) {
      const auto rcode = probe(authority_port_, ".", LDNS_RR_TYPE_SOA);
      knot_ready = rcode == LDNS_RCODE_NOERROR && all_zones_settled(knot_log, knot_zones);
    }
    // localhost is one of unbound's own local zones: a reply proves it is
    // listening without filling its cache with anything from the samples.
    if (!unbound_ready)
      unbound_ready = probe(resolver_port_, "localhost.", LDNS_RR_TYPE_A).has_value();
    if (knot_ready && unbound_ready) return {};
    std::this_thread::sleep_for(50ms);
  }
  const auto& failing_log = knot_ready ? unbound_log : knot_log;
  throw std::runtime_error(std::string("DNS lab: ") + (knot_ready ? "unbound" : "knotd") +
                           " not ready after " + std::to_string(kReadyDeadline.count()) + " s\n" +
                           log_tail(failing_log));
}

void DnsLab::stop() noexcept {
  stop_processes({authority_pid_, resolver_pid_});
  authority_pid_ = -1;
  resolver_pid_ = -1;
}

DnsLab& shared_lab() {
  // Function-local: started on first use, destroyed (servers stopped) at exit.
  static DnsLab lab(std::filesystem::path(RDNS_SOURCE_DIR) / "samples" / "zones");
  return lab;
}

DnsLab& rfc2136_lab() {
  static DnsLab lab(std::filesystem::path(RDNS_SOURCE_DIR) / "tests" / "zones" / "rfc2136",
                    Updates::tsig);
  return lab;
}

DnsLab& emulator_lab() {
  static DnsLab lab(std::filesystem::path(RDNS_SOURCE_DIR) / "tests" / "zones" / "emulator",
                    Updates::from_loopback);
  return lab;
}

std::vector<std::string> ptr_targets(std::uint16_t port, const std::string& name) {
  std::unique_ptr<ldns_resolver, ResolverDeleter> resolver(ldns_resolver_new());
  ldns_rdf* server = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, kLoopback);
  ldns_resolver_push_nameserver(resolver.get(), server);
  ldns_rdf_deep_free(server);
  ldns_resolver_set_port(resolver.get(), port);
  ldns_resolver_set_retry(resolver.get(), 2);
  ldns_resolver_set_timeout(resolver.get(), timeval{1, 0});
  ldns_rdf* qname = ldns_dname_new_frm_str((name + ".").c_str());
  ldns_pkt* answer = nullptr;
  const ldns_status status =
      ldns_resolver_send(&answer, resolver.get(), qname, LDNS_RR_TYPE_PTR, LDNS_RR_CLASS_IN, 0);
  ldns_rdf_deep_free(qname);
  std::vector<std::string> targets;
  if (status == LDNS_STATUS_OK && answer != nullptr) {
    ldns_rr_list* records = ldns_pkt_answer(answer);
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(records); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(records, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR) continue;
      char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
      targets.emplace_back(text);
      std::free(text);
    }
  }
  ldns_pkt_free(answer);
  return targets;
}

}  // namespace rdns::lab
