#pragma once
// An HTTPS server on 127.0.0.1 that serves MTA-STS policies by host name,
// with a certificate from a throwaway CA: openssl makes both in a scratch
// directory, python3's http.server serves. The policy hosts of
// samples/zones/auth.example.zone point at it.

#include <csignal>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace rdns::test {

/// What the server answers for one host name.
struct ServedPolicy {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

class MtaStsServer {
 public:
  /// Serves `policies` (host name -> answer; any other host or path gets
  /// 404) with a certificate naming `certificate_names`.
  MtaStsServer(const std::map<std::string, ServedPolicy>& policies,
               const std::vector<std::string>& certificate_names) {
    make_certificates(certificate_names);
    nlohmann::json table = nlohmann::json::object();
    for (const auto& [host, policy] : policies) {
      table[host] = {
          {"status", policy.status}, {"type", policy.content_type}, {"body", policy.body}};
    }
    write_file(dir_.path() / "policies.json", table.dump());
    write_file(dir_.path() / "serve.py", kScript);
    start();
  }

  ~MtaStsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      wait_exit(pid_);
    }
  }

  MtaStsServer(const MtaStsServer&) = delete;
  MtaStsServer& operator=(const MtaStsServer&) = delete;

  int port() const { return port_; }
  std::string ca_file() const { return (dir_.path() / "ca.pem").string(); }

 private:
  static constexpr const char* kScript = R"(import http.server, json, ssl, sys
policies = json.load(open(sys.argv[1]))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get('Host') or '').split(':')[0].lower()
        case = policies.get(host) if self.path == '/.well-known/mta-sts.txt' else None
        if case is None:
            case = {'status': 404, 'type': 'text/plain', 'body': 'not found'}
        body = case['body'].encode()
        self.send_response(case['status'])
        self.send_header('Content-Type', case['type'])
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
)";

  void openssl(const std::vector<std::string>& arguments) {
    std::vector<std::string> argv = {"openssl"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    const ProcessResult result = run_command(argv);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
  }

  void make_certificates(const std::vector<std::string>& names) {
    const std::string dir = dir_.path().string();
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", dir + "/ca.key", "-out", dir + "/ca.pem", "-days", "2", "-subj",
             "/CN=rdnsctl test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign"});
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=" + names.front()});
    std::string alt_names;
    for (const std::string& name : names)
      alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + name;
    write_file(dir_.path() / "server.ext", "subjectAltName=" + alt_names +
                                               "\nbasicConstraints=CA:FALSE\n"
                                               "extendedKeyUsage=serverAuth\n");
    openssl({"x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey",
             dir + "/ca.key", "-CAcreateserial", "-out", dir + "/server.pem", "-days", "2",
             "-extfile", dir + "/server.ext"});
  }

  void start() {
    const auto out = dir_.path() / "port";
    const std::string script = (dir_.path() / "serve.py").string();
    const std::string policies = (dir_.path() / "policies.json").string();
    const std::string certificate = (dir_.path() / "server.pem").string();
    const std::string key = (dir_.path() / "server.key").string();
    std::fflush(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      std::freopen(out.c_str(), "w", stdout);
      // Aborted handshakes (the certificate cases) make http.server print tracebacks.
      std::freopen((dir_.path() / "stderr").c_str(), "w", stderr);
      std::freopen("/dev/null", "r", stdin);
      execlp("python3", "python3", script.c_str(), policies.c_str(), certificate.c_str(),
             key.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    if (!wait_for_lines(out, 1, std::chrono::seconds(20))) {
      // The destructor does not run for a constructor that fails.
      kill(pid_, SIGTERM);
      wait_exit(pid_);
      FAIL("the MTA-STS test server did not start: " << read_file(dir_.path() / "stderr"));
    }
    port_ = std::stoi(read_file(out));
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace rdns::test
