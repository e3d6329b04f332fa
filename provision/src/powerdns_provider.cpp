#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <variant>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <provision/api_error.hpp>
#include <provision/powerdns_provider.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "curl_easy.hpp"

namespace rdns::provision {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kIpv4Suffix = "in-addr.arpa.";
constexpr const char* kIpv6Suffix = "ip6.arpa.";
constexpr int kReadAttempts = 3;

// ---------------------------------------------------------------------------
// Addresses, prefixes and reverse names

/// An address as bytes: 4 for IPv4, 16 for IPv6.
struct Address {
  std::array<unsigned char, 16> bytes{};
  std::size_t size = 0;
};

std::optional<Address> parse_address(const std::string& text) {
  Address address;
  if (::inet_pton(AF_INET, text.c_str(), address.bytes.data()) == 1) {
    address.size = 4;
    return address;
  }
  if (::inet_pton(AF_INET6, text.c_str(), address.bytes.data()) == 1) {
    address.size = 16;
    return address;
  }
  return std::nullopt;
}

std::string address_text(const Address& address) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  ::inet_ntop(address.size == 4 ? AF_INET : AF_INET6, address.bytes.data(), text.data(),
              text.size());
  return text.data();
}

std::optional<int> small_number(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

/// "192.0.2.0/24" as a network and a length.
struct Prefix {
  Address network;
  int length = 0;

  bool contains(const Address& address) const {
    if (address.size != network.size) return false;
    for (int bit = 0; bit < length; ++bit) {
      const unsigned mask = 0x80U >> (bit % 8);
      if ((address.bytes[bit / 8] & mask) != (network.bytes[bit / 8] & mask)) return false;
    }
    return true;
  }
};

Prefix parse_prefix(const std::string& text) {
  const auto slash = text.find('/');
  const auto network = parse_address(text.substr(0, slash));
  const auto length = slash == std::string::npos
                          ? std::nullopt
                          : small_number(std::string_view(text).substr(slash + 1));
  if (!network || !length || *length < 0 || *length > static_cast<int>(network->size * 8)) {
    throw Error(Errc::usage, "\"" + escape_text(text) +
                                 "\" is not an address prefix (ADDRESS/LENGTH, e.g. 192.0.2.0/24)");
  }
  return {*network, *length};
}

std::string reverse_name_of(const Address& address) {
  std::string name;
  if (address.size == 4) {
    for (std::size_t i = 4; i-- > 0;) name += std::to_string(address.bytes[i]) + ".";
    return name + kIpv4Suffix;
  }
  constexpr const char* kHex = "0123456789abcdef";
  for (std::size_t i = 16; i-- > 0;) {
    name += kHex[address.bytes[i] & 0x0f];
    name += '.';
    name += kHex[address.bytes[i] >> 4];
    name += '.';
  }
  return name + kIpv6Suffix;
}

std::vector<std::string> labels_of(std::string_view name) {
  std::vector<std::string> labels;
  std::size_t start = 0;
  for (std::size_t dot = name.find('.'); dot != std::string_view::npos;
       start = dot + 1, dot = name.find('.', start)) {
    labels.emplace_back(name.substr(start, dot - start));
  }
  if (start < name.size()) labels.emplace_back(name.substr(start));
  return labels;
}

std::string with_dot(std::string name) {
  if (!name.ends_with('.')) name += '.';
  return ascii_lower(name);
}

std::string without_dot(const std::string& name) {
  return name.ends_with('.') ? name.substr(0, name.size() - 1) : name;
}

/// The first label of an RFC 2317 child zone as a range of last octets:
/// "64/26" and "64-26" (a start and a prefix length 25-32, the start on the
/// block's boundary), or "64-127" (first and last octet).
std::optional<std::pair<int, int>> classless_range(const std::string& label) {
  const auto split = label.find_first_of("-/");
  if (split == std::string::npos) return std::nullopt;
  const auto start = small_number(std::string_view(label).substr(0, split));
  const auto second = small_number(std::string_view(label).substr(split + 1));
  if (!start || !second || *start > 255 || *second > 255) return std::nullopt;
  const bool prefix_length = *second >= 25 && *second <= 32;
  if (prefix_length && *start % (1 << (32 - *second)) == 0) {
    return std::pair{*start, *start + (1 << (32 - *second)) - 1};
  }
  if (label[split] == '-' && *second >= *start) return std::pair{*start, *second};
  return std::nullopt;
}

/// The address an owner name stands for: "d.c.b.a.in-addr.arpa.",
/// "d.RANGE.c.b.a.in-addr.arpa." (RFC 2317) or 32 nibbles under ip6.arpa.
std::optional<std::string> address_of_owner(const std::string& owner) {
  const std::string name = with_dot(owner);
  Address address;
  if (name.ends_with(std::string(".") + kIpv4Suffix)) {
    auto labels = labels_of(name.substr(0, name.size() - std::string(kIpv4Suffix).size() - 1));
    if (labels.size() == 5 && classless_range(labels[1])) labels.erase(labels.begin() + 1);
    if (labels.size() != 4) return std::nullopt;
    address.size = 4;
    for (std::size_t i = 0; i < 4; ++i) {
      const auto octet = small_number(labels[3 - i]);
      if (!octet || *octet > 255) return std::nullopt;
      address.bytes[i] = static_cast<unsigned char>(*octet);
    }
    return address_text(address);
  }
  if (name.ends_with(std::string(".") + kIpv6Suffix)) {
    const auto labels =
        labels_of(name.substr(0, name.size() - std::string(kIpv6Suffix).size() - 1));
    if (labels.size() != 32) return std::nullopt;
    address.size = 16;
    for (std::size_t i = 0; i < 32; ++i) {
      const std::string& nibble = labels[31 - i];
      const auto value = nibble.size() == 1 ? std::string_view("0123456789abcdef").find(nibble[0])
                                            : std::string_view::npos;
      if (value == std::string_view::npos) return std::nullopt;
      address.bytes[i / 2] |= static_cast<unsigned char>(i % 2 == 0 ? value << 4 : value);
    }
    return address_text(address);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// The API key

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string trimmed(std::string text) {
  const auto end = text.find_last_not_of(" \t\r\n");
  text.erase(end == std::string::npos ? 0 : end + 1);
  return text.substr(std::min(text.size(), text.find_first_not_of(" \t")));
}

Secret key_from_file(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw Error(Errc::credentials,
                "cannot read the PowerDNS API key file " + escape_text(path.string()));
  }
  // The key grants every change on the server: a file others may read is a leak.
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw Error(Errc::credentials, "the PowerDNS API key file " + escape_text(path.string()) +
                                       " may be read by group or others; chmod 600 it");
  }
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || trimmed(line).empty()) {
    throw Error(Errc::credentials, "the PowerDNS API key file " + escape_text(path.string()) +
                                       " holds no key on its first line");
  }
  return Secret(trimmed(line));
}

}  // namespace

Secret powerdns_api_key(const std::filesystem::path& key_file, const EnvLookup& getenv) {
  if (!key_file.empty()) return key_from_file(key_file);
  const EnvLookup env = getenv ? getenv : EnvLookup(&process_env);
  if (auto value = env(kPowerDnsKeyVariable); value && !trimmed(*value).empty()) {
    return Secret(trimmed(*value));
  }
  throw Error(Errc::credentials,
              fmt::format("no PowerDNS API key: set {} or pass a key file", kPowerDnsKeyVariable));
}

std::string powerdns_scope(const std::string& url) {
  return "powerdns:" + ascii_lower(detail::authority_of(url));
}

std::string reverse_pointer_name(const std::string& ip) {
  const auto address = parse_address(ip);
  if (!address) throw Error(Errc::input, "\"" + escape_text(ip) + "\" is not an IP address");
  return reverse_name_of(*address);
}

// ---------------------------------------------------------------------------
// The client

class PowerDnsPtrProvider::Impl {
 public:
  explicit Impl(PowerDnsConfig config) : config_(std::move(config)) {
    while (config_.url.ends_with('/')) config_.url.pop_back();
    if (!config_.url.starts_with("http://") && !config_.url.starts_with("https://")) {
      throw Error(Errc::usage, "the PowerDNS API URL \"" + escape_text(config_.url) +
                                   "\" must start with http:// or https://");
    }
    host_ = detail::authority_of(config_.url);
    if (config_.scope == NetworkScope::loopback_only && !detail::is_loopback_literal(host_)) {
      throw Error(Errc::usage, "PowerDNS API " + escape_text(host_) +
                                   " is not on 127.0.0.0/8 (loopback-only client)");
    }
    if (config_.api_key.empty()) throw Error(Errc::credentials, "no PowerDNS API key");
    for (const auto& text : config_.prefixes) prefixes_.push_back(parse_prefix(text));
    detail::curl_global_once();
    curl_ = curl_easy_init();
    if (curl_ == nullptr) throw Error(Errc::internal, "curl_easy_init failed");
  }
  ~Impl() { curl_easy_cleanup(curl_); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  /// Where ip's PTR lives on the server.
  struct Placement {
    std::string zone_id;  ///< as the API names the zone in URLs
    std::string zone;     ///< "2.0.192.in-addr.arpa."
    std::string owner;    ///< "10.2.0.192.in-addr.arpa."
  };

  /// ip's zone and owner name, or why it has none here.
  std::variant<Placement, std::string> place(const std::string& ip) {
    const auto address = parse_address(ip);
    if (!address) return "\"" + escape_text(ip) + "\" is not an IP address";
    if (!prefixes_.empty() && std::none_of(prefixes_.begin(), prefixes_.end(),
                                           [&](const Prefix& p) { return p.contains(*address); })) {
      return fmt::format("{} is outside the prefixes this PowerDNS server may change ({})", ip,
                         fmt::join(config_.prefixes, ", "));
    }
    const std::string owner = reverse_name_of(*address);
    std::optional<Placement> best;
    for (const auto& zone : zones()) {
      const auto placed = placement_in(zone, owner, *address);
      if (placed && (!best || placed->zone.size() > best->zone.size())) best = placed;
    }
    if (best) return *best;
    return fmt::format("no reverse zone on the PowerDNS server {} (server {}) contains {}", host_,
                       escape_text(config_.server_id), without_dot(owner));
  }

  Placement require_placement(const std::string& ip) {
    auto placed = place(ip);
    if (auto* why = std::get_if<std::string>(&placed)) throw Error(Errc::input, *why);
    return std::get<Placement>(placed);
  }

  /// The records of owner's PTR rrset (none when it has none).
  std::vector<PtrRecord> read(const Placement& placed, const std::string& ip) {
    char* name = curl_easy_escape(curl_, placed.owner.c_str(), 0);
    const std::string escaped = name != nullptr ? name : "";
    curl_free(name);
    auto records = records_at(
        get(zone_path(placed.zone_id) + "?rrset_name=" + escaped + "&rrset_type=PTR", placed.zone),
        placed.owner, ip);
    // PowerDNS 4.7 leaves disabled records out of a filtered answer, so an
    // empty one is checked against the whole zone: the rrset may be disabled.
    if (records.empty())
      records = records_at(get(zone_path(placed.zone_id), placed.zone), placed.owner, ip);
    return records;
  }

  PtrListing list() {
    PtrListing listing;
    for (const auto& zone : zones()) {
      for (const auto& rrset : rrsets_of(get(zone_path(zone.id), zone.name))) {
        const auto ip = address_of_owner(rrset.value("name", ""));
        if (!ip || !inside_prefixes(*ip)) continue;
        append_records(rrset, *ip, listing.records);
      }
    }
    return listing;
  }

  void replace(const Placement& placed, int ttl, const std::vector<std::string>& values,
               PtrStatus status) {
    Json records = Json::array();
    for (const auto& value : values) {
      records.push_back(
          {{"content", with_dot(value)}, {"disabled", status == PtrStatus::disabled}});
    }
    patch(placed, {{"name", placed.owner},
                   {"type", "PTR"},
                   {"ttl", ttl},
                   {"changetype", "REPLACE"},
                   {"records", records}});
  }

  void remove(const Placement& placed) {
    patch(placed, {{"name", placed.owner}, {"type", "PTR"}, {"changetype", "DELETE"}});
  }

  const std::string& last_serial() const { return last_serial_; }
  const PowerDnsConfig& config() const { return config_; }

 private:
  struct Zone {
    std::string id;
    std::string name;  ///< lower case, trailing dot
  };

  struct Answer {
    long status = 0;
    std::string body;
    std::string headers;
  };

  bool inside_prefixes(const std::string& ip) const {
    const auto address = parse_address(ip);
    return prefixes_.empty() ||
           (address && std::any_of(prefixes_.begin(), prefixes_.end(),
                                   [&](const Prefix& p) { return p.contains(*address); }));
  }

  /// owner's place in zone: the zone itself or a parent of owner, or an
  /// RFC 2317 child zone of owner's /24 whose range holds the last octet.
  static std::optional<Placement> placement_in(const Zone& zone, const std::string& owner,
                                               const Address& address) {
    if (owner == zone.name || owner.ends_with("." + zone.name)) {
      return Placement{zone.id, zone.name, owner};
    }
    if (address.size != 4) return std::nullopt;
    const std::string parent = owner.substr(owner.find('.') + 1);  // "c.b.a.in-addr.arpa."
    if (!zone.name.ends_with("." + parent)) return std::nullopt;
    const std::string label = zone.name.substr(0, zone.name.size() - parent.size() - 1);
    const auto range = classless_range(label);
    if (!range || address.bytes[3] < range->first || address.bytes[3] > range->second) {
      return std::nullopt;
    }
    return Placement{zone.id, zone.name, std::to_string(address.bytes[3]) + "." + zone.name};
  }

  /// The server's reverse zones, asked once per provider.
  const std::vector<Zone>& zones() {
    if (zones_) return *zones_;
    std::vector<Zone> found;
    const Json listing = get(server_path() + "/zones", "");
    if (!listing.is_array()) throw unexpected("the zone list", "");
    for (const auto& zone : listing) {
      if (!zone.is_object()) continue;
      const std::string name = with_dot(zone.value("name", ""));
      if (name.ends_with(kIpv4Suffix) || name.ends_with(kIpv6Suffix)) {
        found.push_back({zone.value("id", name), name});
      }
    }
    zones_ = std::move(found);
    return *zones_;
  }

  static std::vector<Json> rrsets_of(const Json& zone) {
    std::vector<Json> rrsets;
    const auto it = zone.find("rrsets");
    if (it == zone.end() || !it->is_array()) return rrsets;
    for (const auto& rrset : *it) {
      if (rrset.is_object() && rrset.value("type", "") == "PTR") rrsets.push_back(rrset);
    }
    return rrsets;
  }

  static std::vector<PtrRecord> records_at(const Json& zone, const std::string& owner,
                                           const std::string& ip) {
    std::vector<PtrRecord> records;
    for (const auto& rrset : rrsets_of(zone)) {
      if (with_dot(rrset.value("name", "")) == owner) append_records(rrset, ip, records);
    }
    return records;
  }

  static void append_records(const Json& rrset, const std::string& ip,
                             std::vector<PtrRecord>& records) {
    const auto list = rrset.find("records");
    if (list == rrset.end() || !list->is_array()) return;
    for (const auto& entry : *list) {
      PtrRecord record;
      record.ip = ip;
      record.name = without_dot(ascii_lower(rrset.value("name", "")));
      record.record_id = record.name;
      record.value = without_dot(entry.value("content", ""));
      record.ttl = rrset.value("ttl", 0);
      record.status = entry.value("disabled", false) ? PtrStatus::disabled : PtrStatus::enabled;
      records.push_back(std::move(record));
    }
  }

  std::string server_path() const { return "/api/v1/servers/" + config_.server_id; }
  std::string zone_path(const std::string& zone_id) const {
    return server_path() + "/zones/" + zone_id;
  }

  void patch(const Placement& placed, Json rrset) {
    const Json body = {{"rrsets", Json::array({std::move(rrset)})}};
    const Answer answer = send("PATCH", zone_path(placed.zone_id), body.dump(), placed.zone);
    if (answer.status < 200 || answer.status >= 300) fail(answer, "PATCH", placed.zone, 1);
    last_serial_ = serial_in(answer.headers);
  }

  /// A GET, retried on network failures and 5xx: it changes nothing.
  Json get(const std::string& path, const std::string& zone) {
    for (int attempt = 1;; ++attempt) {
      const Answer answer = send("GET", path, "", zone);
      const bool transient = answer.status == 0 || answer.status >= 500;
      if (transient && attempt < kReadAttempts) {
        std::this_thread::sleep_for(200ms * attempt);
        continue;
      }
      if (answer.status < 200 || answer.status >= 300) fail(answer, "GET", zone, attempt);
      Json body = Json::parse(answer.body, nullptr, false);
      if (body.is_discarded()) throw unexpected("GET " + path, zone);
      return body;
    }
  }

  /// One request. Writes go out on a new connection that is not kept: libcurl
  /// silently re-sends a request whose reused connection closed before any
  /// answer, and a write must be sent again only by the caller's decision.
  Answer send(const std::string& method, const std::string& path, const std::string& body,
              const std::string& zone) {
    const bool write = method != "GET";
    detail::HeaderList headers;
    headers.append("X-API-Key: " + config_.api_key.reveal());
    headers.append("Accept: application/json");
    if (write) headers.append("Content-Type: application/json");
    Answer answer;
    curl_easy_reset(curl_);
    using detail::set_option;
    const std::string url = config_.url + path;
    set_option(curl_, CURLOPT_URL, url.c_str());
    set_option(curl_, CURLOPT_HTTPHEADER, headers.get());
    if (write) {
      set_option(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
      set_option(curl_, CURLOPT_POSTFIELDS, body.c_str());
      set_option(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      set_option(curl_, CURLOPT_FRESH_CONNECT, 1L);
      set_option(curl_, CURLOPT_FORBID_REUSE, 1L);
    }
    set_option(curl_, CURLOPT_WRITEFUNCTION, &detail::append_to_string);
    set_option(curl_, CURLOPT_WRITEDATA, &answer.body);
    set_option(curl_, CURLOPT_HEADERFUNCTION, &detail::append_to_string);
    set_option(curl_, CURLOPT_HEADERDATA, &answer.headers);
    set_option(curl_, CURLOPT_NOSIGNAL, 1L);
    set_option(curl_, CURLOPT_CONNECTTIMEOUT_MS,
               static_cast<long>(config_.connect_timeout.count()));
    set_option(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.request_timeout.count()));
    set_option(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    set_option(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    if (config_.scope == NetworkScope::loopback_only) {
      // A proxy from the environment would carry loopback traffic off the machine.
      set_option(curl_, CURLOPT_PROXY, "");
    }
    const CURLcode result = curl_easy_perform(curl_);
    const std::string target = zone.empty() ? "zones" : "zone " + escape_text(zone);
    if (result != CURLE_OK) {
      log(fmt::format("powerdns: {} {} at {} failed: {}", method, target, host_,
                      curl_easy_strerror(result)));
      if (!write) {
        answer.body = curl_easy_strerror(result);
        answer.status = 0;
        network_failure_ = result;
        return answer;
      }
      throw network_error(method, zone, result);
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &answer.status);
    log(fmt::format("powerdns: {} {} at {}: HTTP {}", method, target, host_, answer.status));
    return answer;
  }

  /// The server's error text: the "error" of a JSON answer, else the body's start.
  static std::string error_text(const Answer& answer) {
    const Json body = Json::parse(answer.body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_string()) {
      return body["error"].get<std::string>();
    }
    return trimmed(answer.body.substr(0, 200));
  }

  [[noreturn]] void fail(const Answer& answer, const std::string& method, const std::string& zone,
                         int attempts) {
    if (answer.status == 0) throw network_error(method, zone, network_failure_, attempts);
    ApiErrorKind kind = ApiErrorKind::unknown;
    std::string meaning;
    const std::string where = zone.empty() ? "the zone list" : "zone " + escape_text(zone);
    switch (answer.status) {
      case 401:
      case 403:
        kind = ApiErrorKind::auth;
        meaning =
            fmt::format("the API key was refused (check {} or the key file)", kPowerDnsKeyVariable);
        break;
      case 404:
        kind = ApiErrorKind::not_found;
        meaning = fmt::format("{} is not on server {}", where, escape_text(config_.server_id));
        break;
      case 422:
        kind = ApiErrorKind::validation;
        meaning = "the server refused the change to " + where;
        break;
      default:
        kind = answer.status >= 500 ? ApiErrorKind::unavailable : ApiErrorKind::unknown;
        meaning = "the server failed the request for " + where;
        break;
    }
    const std::string code = fmt::format("HTTP{}", answer.status);
    throw ApiError(kind, code,
                   fmt::format("PowerDNS {} at {}: HTTP {}: {}: {}", method, host_, answer.status,
                               meaning, escape_text(error_text(answer))),
                   {}, static_cast<int>(answer.status), attempts);
  }

  ApiError network_error(const std::string& method, const std::string& zone, CURLcode result,
                         int attempts = 1) const {
    const std::string where = zone.empty() ? "the zone list" : "zone " + escape_text(zone);
    const ApiErrorKind kind =
        detail::is_tls_failure(result) ? ApiErrorKind::unknown : ApiErrorKind::network;
    return ApiError(kind, detail::network_code(result),
                    fmt::format("PowerDNS {} of {} at {}: {} ({} attempt{})", method, where, host_,
                                curl_easy_strerror(result), attempts, attempts == 1 ? "" : "s"),
                    {}, 0, attempts);
  }

  Error unexpected(const std::string& what, const std::string& zone) const {
    return Error(Errc::cloud, fmt::format("PowerDNS at {}: {}{} is not the JSON expected", host_,
                                          what, zone.empty() ? "" : " of " + escape_text(zone)));
  }

  /// "serial 2026120602" from the X-PDNS-New-Serial header, when present.
  static std::string serial_in(const std::string& headers) {
    const std::string lowered = ascii_lower(headers);
    const std::string name = "x-pdns-new-serial:";
    const auto at = lowered.find(name);
    if (at == std::string::npos) return {};
    const auto end = headers.find('\n', at);
    return "serial " + trimmed(headers.substr(at + name.size(), end - at - name.size()));
  }

  void log(const std::string& line) const {
    if (config_.log) config_.log(line);
  }

  PowerDnsConfig config_;
  std::string host_;
  std::vector<Prefix> prefixes_;
  std::optional<std::vector<Zone>> zones_;
  std::string last_serial_;
  CURLcode network_failure_ = CURLE_OK;
  CURL* curl_ = nullptr;
};

PowerDnsPtrProvider::PowerDnsPtrProvider(PowerDnsConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

PowerDnsPtrProvider::~PowerDnsPtrProvider() = default;

const std::string& PowerDnsPtrProvider::name() const {
  static const std::string kName = "powerdns";
  return kName;
}

ProviderCapabilities PowerDnsPtrProvider::capabilities() const {
  ProviderCapabilities capabilities;
  capabilities.supports_disable = true;
  capabilities.needs_domain_verification = false;
  capabilities.min_ttl = 1;
  capabilities.max_ttl = 604800;  // a week; PowerDNS itself takes any 32-bit TTL
  return capabilities;
}

std::vector<Ownership> PowerDnsPtrProvider::ownership(const std::vector<std::string>& ips) {
  std::vector<Ownership> result;
  for (const auto& ip : ips) {
    Ownership owned;
    owned.ip = ip;
    auto placed = impl_->place(ip);
    if (const auto* where = std::get_if<Impl::Placement>(&placed)) {
      owned.role = IpRole::reverse_zone;
      owned.resource_id = without_dot(where->zone);
    } else {
      owned.reason = std::get<std::string>(placed);
    }
    result.push_back(std::move(owned));
  }
  return result;
}

PtrListing PowerDnsPtrProvider::list() {
  return impl_->list();
}

std::vector<PtrRecord> PowerDnsPtrProvider::read(const std::string& ip) {
  auto placed = impl_->place(ip);
  const auto* where = std::get_if<Impl::Placement>(&placed);
  if (where == nullptr) return {};  // no zone here: no record here
  return impl_->read(*where, ip);
}

std::string PowerDnsPtrProvider::write(const std::string& ip, const std::string& value, int ttl,
                                       const std::string& /*current_record_id*/) {
  const Impl::Placement placed = impl_->require_placement(ip);
  impl_->replace(placed, ttl, {value}, PtrStatus::enabled);
  return without_dot(placed.owner);
}

void PowerDnsPtrProvider::remove(const std::string& ip, const std::string& /*current_record_id*/) {
  impl_->remove(impl_->require_placement(ip));
}

void PowerDnsPtrProvider::set_status(const std::string& ip,
                                     const std::string& /*current_record_id*/, PtrStatus status) {
  const Impl::Placement placed = impl_->require_placement(ip);
  const auto records = impl_->read(placed, ip);
  if (records.empty()) {
    throw Error(Errc::input, ip + " has no PTR record in zone " + without_dot(placed.zone));
  }
  std::vector<std::string> values;
  for (const auto& record : records) values.push_back(record.value);
  impl_->replace(placed, records.front().ttl, values, status);
}

std::optional<VerificationTxt> PowerDnsPtrProvider::verification_txt(const std::string& /*value*/) {
  return std::nullopt;
}

const std::string& PowerDnsPtrProvider::last_request_id() const {
  return impl_->last_serial();
}

}  // namespace rdns::provision
