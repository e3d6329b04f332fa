#pragma once
// Throwaway certificates for the STARTTLS tests, made with the OpenSSL API
// (the command line of OpenSSL 3.0 cannot date a certificate in the past):
// a CA, and leaf certificates signed by it or by themselves, for given
// names and validity.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace rdns::test {

struct CertificateFiles {
  std::filesystem::path certificate;  ///< PEM
  std::filesystem::path key;          ///< PEM
};

class TestCertificates {
 public:
  explicit TestCertificates(std::filesystem::path dir) : dir_(std::move(dir)) {
    ca_key_ = make_key();
    ca_ = make_certificate("rdnsctl test CA", {}, 0, 365, ca_key_.get(), nullptr, nullptr, true);
    ca_file_ = write(dir_ / "ca.pem", ca_.get(), nullptr);
  }

  const std::filesystem::path& ca_file() const { return ca_file_; }

  /// A leaf for `names`, valid from `from_days` to `to_days` around now;
  /// signed by the CA unless `self_signed`.
  CertificateFiles leaf(const std::string& file, const std::vector<std::string>& names,
                        long from_days, long to_days, bool self_signed = false) {
    auto key = make_key();
    auto certificate = make_certificate(names.front(), names, from_days, to_days, key.get(),
                                        self_signed ? nullptr : ca_.get(),
                                        self_signed ? key.get() : ca_key_.get(), false);
    CertificateFiles files;
    files.certificate = write(dir_ / (file + ".pem"), certificate.get(), nullptr);
    files.key = write(dir_ / (file + ".key"), nullptr, key.get());
    return files;
  }

 private:
  using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;

  static Key make_key() { return Key(EVP_EC_gen("P-256"), &EVP_PKEY_free); }

  static Certificate make_certificate(const std::string& common_name,
                                      const std::vector<std::string>& names, long from_days,
                                      long to_days, EVP_PKEY* key, X509* issuer, EVP_PKEY* signer,
                                      bool ca) {
    Certificate certificate(X509_new(), &X509_free);
    X509_set_version(certificate.get(), 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), ++serial);
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), from_days * 86400 - 60);
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()), to_days * 86400);
    X509_set_pubkey(certificate.get(), key);
    X509_NAME* subject = X509_get_subject_name(certificate.get());
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(certificate.get(),
                         issuer != nullptr ? X509_get_subject_name(issuer) : subject);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer != nullptr ? issuer : certificate.get(), certificate.get(),
                   nullptr, nullptr, 0);
    const auto extend = [&](int nid, const std::string& value) {
      X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
      X509_add_ext(certificate.get(), extension, -1);
      X509_EXTENSION_free(extension);
    };
    extend(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (!names.empty()) {
      std::string san;
      for (const auto& name : names) san += (san.empty() ? "DNS:" : ",DNS:") + name;
      extend(NID_subject_alt_name, san);
    }
    X509_sign(certificate.get(), signer != nullptr ? signer : key, EVP_sha256());
    return certificate;
  }

  static std::filesystem::path write(const std::filesystem::path& path, X509* certificate,
                                     EVP_PKEY* key) {
    FILE* out = std::fopen(path.c_str(), "w");
    if (certificate != nullptr) PEM_write_X509(out, certificate);
    if (key != nullptr) PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(out);
    return path;
  }

  std::filesystem::path dir_;
  Key ca_key_{nullptr, &EVP_PKEY_free};
  Certificate ca_{nullptr, &X509_free};
  std::filesystem::path ca_file_;
};

}  // namespace rdns::test
