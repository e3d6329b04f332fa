#pragma once
// What the rfc2136 tests share: the TSIG lab (Knot taking only updates
// signed with the lab's key), its key in each format, an independent reader
// of what Knot serves, and knsupdate as "someone else" changing a zone.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <lab/dns_lab.hpp>
#include <lab/ldns.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace rdns::test {

/// The lab key as nsupdate -y and knsupdate take it.
inline std::string lab_key_text() {
  return std::string("hmac-sha256:") + lab::kLabTsigKeyName + ":" + lab::kLabTsigSecret;
}

/// The PTR targets (lower case, no trailing dot) Knot itself serves at owner,
/// asked without a key and without a cache in between.
inline std::vector<std::string> served_ptrs(const std::string& owner) {
  ldns_resolver* resolver = ldns_resolver_new();
  ldns_rdf* server = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
  ldns_resolver_push_nameserver(resolver, server);
  ldns_rdf_deep_free(server);
  ldns_resolver_set_port(resolver, lab::rfc2136_lab().authority_port());
  ldns_resolver_set_retry(resolver, 2);
  ldns_rdf* qname = ldns_dname_new_frm_str(owner.c_str());
  ldns_pkt* answer = nullptr;
  const ldns_status status =
      ldns_resolver_send(&answer, resolver, qname, LDNS_RR_TYPE_PTR, LDNS_RR_CLASS_IN, 0);
  ldns_rdf_deep_free(qname);
  std::vector<std::string> targets;
  if (status == LDNS_STATUS_OK && answer != nullptr) {
    const ldns_rr_list* records = ldns_pkt_answer(answer);
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(records); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(records, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR) continue;
      char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
      std::string target = text;
      std::free(text);
      if (target.ends_with('.')) target.pop_back();
      targets.push_back(target);
    }
  }
  ldns_pkt_free(answer);
  ldns_resolver_deep_free(resolver);
  REQUIRE(status == LDNS_STATUS_OK);
  return targets;
}

/// Runs knsupdate with the lab's key on commands (one per line, "send"
/// added): a change made outside rdnsctl. Requires it to succeed.
inline void knsupdate(const std::vector<std::string>& commands) {
  TempDir dir;
  const auto script = dir.path() / "script";
  {
    std::ofstream out(script);
    out << "server "
        << lab::rfc2136_lab().authority_address().replace(
               lab::rfc2136_lab().authority_address().find(':'), 1, " ")
        << "\n";
    for (const auto& command : commands) out << command << "\n";
    out << "send\n";
  }
  const std::string command = "knsupdate -y " + shell_quote(lab_key_text()) + " " +
                              shell_quote(script.string()) + " >" +
                              shell_quote((dir.path() / "out").string()) + " 2>&1";
  const int status = std::system(command.c_str());
  INFO(read_file(dir.path() / "out"));
  REQUIRE(status == 0);
}

}  // namespace rdns::test
