#pragma once
/// The provisioning engine's journal (provision::Journal) kept in the
/// rdnsctl database by PtrJournal. It is a library of its own,
/// rdns_db_engine_journal, so that rdns_db itself does not depend on
/// provision: the dependencies point one way (cli → db_engine_journal →
/// db, provision).

#include <db/ptr_journal.hpp>
#include <provision/journal.hpp>

namespace rdns::db {

class EngineJournal final : public provision::Journal {
 public:
  /// journal must outlive this.
  explicit EngineJournal(PtrJournal& journal) : journal_(journal) {}

  std::int64_t begin(const provision::JournalOperation& operation) override;
  void finish(std::int64_t id, const std::string& state, const std::string& outcome,
              const std::string& request_id, const std::string& record_id) override;
  std::vector<provision::JournalOperation> pending(const std::string& region) override;
  std::optional<provision::JournalOperation> find(std::int64_t id) override;
  void set_managed(const std::string& region, const std::string& ip, bool managed) override;
  std::vector<std::string> managed(const std::string& region) override;
  void save_stage(const provision::StagedChange& stage) override;
  std::optional<provision::StagedChange> stage(const std::string& region,
                                               const std::string& ip) override;
  void clear_stage(const std::string& region, const std::string& ip) override;
  void add_risks(const std::vector<provision::RiskFinding>& risks) override;

 private:
  PtrJournal& journal_;
};

}  // namespace rdns::db
