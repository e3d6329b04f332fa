#include <audit/sources.hpp>

namespace rdns::audit {

void SourceIndex::add(const IpRange& range, TargetSource source) {
  entries_.emplace_back(range, std::move(source));
}

std::vector<TargetSource> SourceIndex::find(const IpAddress& ip) const {
  std::vector<TargetSource> found;
  for (const auto& [range, source] : entries_) {
    if (range.first.family() == ip.family() && range.first <= ip && ip <= range.last) {
      found.push_back(source);
    }
  }
  return found;
}

}  // namespace rdns::audit
