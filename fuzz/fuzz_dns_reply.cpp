// DNS replies as a resolver (or anything that answers on its port) sends
// them: parsing never crashes, and following a chain from any owner name in
// the reply terminates and shows every name in escaped, printable form;
// judging whether it answers its own question never crashes either.
#include <cstddef>
#include <cstdint>

#include "dns_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rdns::audit;
  dns::Message message;
  if (!dns::parse_message(data, size, message)) return 0;
  for (const dns::Message::Question& question : message.questions) {
    dns::reply_problem(message, question.name, static_cast<dns::RrType>(question.type));
  }
  for (const dns::Record& record : message.answers) {
    for (const dns::RrType type : {dns::RrType::ptr, dns::RrType::a, dns::RrType::txt}) {
      const dns::Chain chain = dns::follow_chain(message, record.owner, type);
      for (const DnsName& alias : chain.aliases) {
        for (const char c : alias.presentation()) {
          if (c < 0x21 || c > 0x7e) __builtin_trap();  // shown names are escaped ASCII
        }
      }
    }
  }
  return 0;
}
