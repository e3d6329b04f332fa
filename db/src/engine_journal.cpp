#include <ctime>

#include <db/engine_journal.hpp>

namespace rdns::db {
namespace {

/// created_at (UTC, ISO 8601 to the second) as a time point; unreadable
/// text counts as long past, so such an operation is never watched.
std::chrono::system_clock::time_point parse_utc(const std::string& text) {
  std::tm parts{};
  if (::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &parts) == nullptr) {
    return std::chrono::system_clock::time_point{};
  }
  return std::chrono::system_clock::from_time_t(::timegm(&parts));
}

provision::JournalOperation to_engine(const PtrOperationRecord& record) {
  provision::JournalOperation op;
  op.id = record.id;
  op.started = parse_utc(record.created_at);
  op.source = record.source;
  op.action = record.action;
  op.region = record.region;
  op.ip = record.ip;
  op.record_id = record.record_id;
  op.value = record.value;
  op.ttl = record.ttl;
  op.previous_value = record.previous_value;
  op.previous_ttl = record.previous_ttl;
  op.previous_status = record.previous_status;
  op.state = record.state;
  return op;
}

PtrStageRecord to_record(const provision::StagedChange& stage) {
  return {stage.region,       stage.ip,      stage.value, stage.ttl,       stage.original_value,
          stage.original_ttl, stage.low_ttl, stage.stage, stage.not_before};
}

provision::StagedChange to_engine(const PtrStageRecord& stage) {
  return {stage.region,       stage.ip,      stage.value, stage.ttl,       stage.original_value,
          stage.original_ttl, stage.low_ttl, stage.stage, stage.not_before};
}

}  // namespace

std::int64_t EngineJournal::begin(const provision::JournalOperation& operation) {
  PtrOperationRecord record;
  record.source = operation.source;
  record.action = operation.action;
  record.region = operation.region;
  record.ip = operation.ip;
  record.record_id = operation.record_id;
  record.value = operation.value;
  record.ttl = operation.ttl;
  record.previous_value = operation.previous_value;
  record.previous_ttl = operation.previous_ttl;
  record.previous_status = operation.previous_status;
  return journal_.begin(record);
}

void EngineJournal::finish(std::int64_t id, const std::string& state, const std::string& outcome,
                           const std::string& request_id, const std::string& record_id) {
  journal_.finish(id, state, outcome, request_id, record_id);
}

std::vector<provision::JournalOperation> EngineJournal::pending(const std::string& region) {
  std::vector<provision::JournalOperation> result;
  for (const auto& record : journal_.pending(region)) result.push_back(to_engine(record));
  return result;
}

std::optional<provision::JournalOperation> EngineJournal::find(std::int64_t id) {
  const auto record = journal_.find(id);
  if (!record) return std::nullopt;
  return to_engine(*record);
}

void EngineJournal::set_managed(const std::string& region, const std::string& ip, bool managed) {
  journal_.set_managed(region, ip, managed);
}

std::vector<std::string> EngineJournal::managed(const std::string& region) {
  return journal_.managed(region);
}

void EngineJournal::save_stage(const provision::StagedChange& stage) {
  journal_.save_stage(to_record(stage));
}

std::optional<provision::StagedChange> EngineJournal::stage(const std::string& region,
                                                            const std::string& ip) {
  const auto stored = journal_.stage(region, ip);
  if (!stored) return std::nullopt;
  return to_engine(*stored);
}

void EngineJournal::clear_stage(const std::string& region, const std::string& ip) {
  journal_.clear_stage(region, ip);
}

void EngineJournal::add_risks(const std::vector<provision::RiskFinding>& risks) {
  std::vector<PtrRiskRecord> records;
  records.reserve(risks.size());
  for (const auto& risk : risks) {
    records.push_back({{}, risk.region, risk.ip, risk.level, risk.code, risk.reason, risk.action});
  }
  journal_.add_risks(records);
}

}  // namespace rdns::db
