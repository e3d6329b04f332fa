#pragma once
/// The schema, as the ordered list of migrations that build it.
///
/// PRAGMA user_version holds how many of these migrations a database has had;
/// migration N (1-based) takes it from version N-1 to N in one transaction.
/// To change the schema, append a new script to kMigrations, never edit or
/// reorder a shipped one: databases in the field already ran it, and a binary
/// refuses files whose version is above kMigrations.size(). A new script must
/// work on the data as the previous migrations left it (ALTER TABLE, or
/// create-copy-drop-rename for changes ALTER cannot do), then add a test that
/// opens a database at the previous version. PostgreSQL runs the same list
/// (postgres_storage.cpp translates INTEGER, BLOB, AUTOINCREMENT and WITHOUT
/// ROWID, and holds its own text for a script with SQLite-only functions);
/// tests/db/test_db_backends.cpp migrates a fresh database on both.

#include <array>
#include <cstdint>
#include <string_view>

namespace rdns::db {

/// "rdNS": PRAGMA application_id, so we never adopt another program's file.
inline constexpr std::int32_t kApplicationId = 0x72644E53;

inline constexpr std::array<std::string_view, 10> kMigrations = {
    // 1: runs, their per-IP results and the findings of each result.
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so a run id named in a report stays valid
  command TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'interrupted', 'failed')),
  arguments TEXT NOT NULL,  -- JSON
  resolvers TEXT NOT NULL,  -- JSON array of strings
  tool_version TEXT NOT NULL,
  count_total INTEGER NOT NULL DEFAULT 0,
  count_pass INTEGER NOT NULL DEFAULT 0,
  count_warn INTEGER NOT NULL DEFAULT 0,
  count_fail INTEGER NOT NULL DEFAULT 0,
  count_unknown INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE results (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  family TEXT NOT NULL CHECK (family IN ('ipv4', 'ipv6')),
  -- 4 or 16 bytes in network order: memcmp order within a family is numeric
  -- order, and ranges (CIDR) can be queried with BETWEEN.
  address BLOB NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail', 'unknown')),
  ptr TEXT NOT NULL,      -- JSON array of names
  forward TEXT NOT NULL,  -- JSON array of {"name", "addresses"}
  PRIMARY KEY (run_id, ip)
) WITHOUT ROWID;

CREATE INDEX results_by_address ON results (run_id, family, address);
CREATE INDEX results_by_ip ON results (ip, run_id);

-- Each finding belongs to the result (run_id, ip), which add_results writes
-- in the same transaction just before it. The foreign key names only the run:
-- it still cascades when a run is deleted, and checking the composite key
-- would cost about 5% of insert speed for nothing add_results can break.
CREATE TABLE findings (
  id INTEGER PRIMARY KEY,  -- insertion order, which is the order findings are shown in
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  code TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
  detail TEXT NOT NULL
);

CREATE INDEX findings_by_result ON findings (run_id, ip);
)sql",
    // 2: the address ranges a run set out to audit, so an interrupted run can
    // be resumed without its original input (which may have been stdin).
    R"sql(
CREATE TABLE run_targets (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  first TEXT NOT NULL,  -- canonical address text; one family per range
  last TEXT NOT NULL
);

CREATE INDEX run_targets_by_run ON run_targets (run_id);
)sql",
    // 3: where each IP came from (a domain's MX or SPF), and the findings
    // about domains themselves (a broken SPF record, a null MX).
    R"sql(
ALTER TABLE results ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';  -- JSON array

CREATE TABLE domain_findings (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  domain TEXT NOT NULL,
  code TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
  detail TEXT NOT NULL
);

CREATE INDEX domain_findings_by_run ON domain_findings (run_id);
)sql",
    // 4: findings move into their result's row as a JSON array. Findings
    // are only ever read and written with their result, and one row per IP
    // instead of one per finding (plus an index each) is what lets a large
    // audit store 200,000 findings a second. The address index goes too:
    // a run's results are sorted when read, which costs less than keeping
    // a second index up to date on every insert.
    R"sql(
ALTER TABLE results ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';  -- JSON array
UPDATE results SET findings = (
  SELECT json_group_array(json_object('code', code, 'severity', severity, 'detail', detail))
  FROM (SELECT code, severity, detail FROM findings AS f
        WHERE f.run_id = results.run_id AND f.ip = results.ip ORDER BY f.id))
WHERE EXISTS (SELECT 1 FROM findings AS f WHERE f.run_id = results.run_id AND f.ip = results.ip);
DROP TABLE findings;
DROP INDEX results_by_address;
)sql",
    // 5: the PTR write journal (intent before the cloud call, outcome after),
    // the IPs whose records this tool manages, the findings of each
    // `ptr risk` pass and the staged changes in progress (issue 6).
    R"sql(
CREATE TABLE ptr_operations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: `ptr rollback OP` names it
  created_at TEXT NOT NULL,
  finished_at TEXT,
  source TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'enable', 'disable')),
  region TEXT NOT NULL,
  ip TEXT NOT NULL,
  record_id TEXT NOT NULL DEFAULT '',
  value TEXT NOT NULL DEFAULT '',
  ttl INTEGER NOT NULL DEFAULT 0,
  previous_value TEXT NOT NULL DEFAULT '',
  previous_ttl INTEGER NOT NULL DEFAULT 0,
  previous_status TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed', 'not_applied')),
  outcome TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ptr_operations_pending ON ptr_operations (region, id) WHERE state = 'pending';
CREATE TABLE ptr_managed (
  region TEXT NOT NULL,
  ip TEXT NOT NULL,
  since TEXT NOT NULL,
  PRIMARY KEY (region, ip)
) WITHOUT ROWID;
CREATE TABLE ptr_risks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  checked_at TEXT NOT NULL,
  region TEXT NOT NULL,
  ip TEXT NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('ok', 'low', 'medium', 'high')),
  code TEXT NOT NULL,
  reason TEXT NOT NULL,
  action TEXT NOT NULL
);
CREATE INDEX ptr_risks_by_ip ON ptr_risks (region, ip, id);
CREATE TABLE ptr_stages (
  region TEXT NOT NULL,
  ip TEXT NOT NULL,
  value TEXT NOT NULL,
  ttl INTEGER NOT NULL,
  original_value TEXT NOT NULL,
  original_ttl INTEGER NOT NULL,
  low_ttl INTEGER NOT NULL,
  stage TEXT NOT NULL CHECK (stage IN ('lower', 'wait', 'switch', 'confirm', 'restore')),
  not_before INTEGER NOT NULL,  -- Unix seconds: the old TTL has run out in every cache
  updated_at TEXT NOT NULL,
  PRIMARY KEY (region, ip)
) WITHOUT ROWID;
)sql",
    // 6: what a run may be compared with. Runs compare only with runs of the
    // same identity: a named inventory's ("inventory:NAME"), or for an ad-hoc
    // run one derived from its targets and checks. Runs stored before this
    // cannot be told apart, so each gets an identity of its own. `checks`
    // lists the checks that ran ("dns", "dns,smtp"), so a comparison leaves
    // out findings only one of two runs could produce.
    R"sql(
ALTER TABLE runs ADD COLUMN inventory TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN identity TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN checks TEXT NOT NULL DEFAULT 'dns';
UPDATE runs SET identity = 'run:' || id,
  checks = CASE WHEN arguments LIKE '%"--smtp"%' THEN 'dns,smtp' ELSE 'dns' END;
CREATE INDEX runs_by_identity ON runs (identity, id);
CREATE INDEX runs_by_inventory ON runs (inventory, id);
)sql",
    // 7: what the SMTP server said, as data rather than inside finding text:
    // {"greeted", "greeting_name", "ehlo_name", "failure"}, NULL when SMTP was
    // not checked. Earlier runs keep NULL.
    R"sql(
ALTER TABLE results ADD COLUMN smtp TEXT;
)sql",
    // 8: which part of a sharded audit a run covered (`audit --shard K/N`):
    // shard K (1-based) of N; both NULL for a whole audit, as every earlier run was.
    R"sql(
ALTER TABLE runs ADD COLUMN shard_index INTEGER;
ALTER TABLE runs ADD COLUMN shard_count INTEGER;
)sql",
    // 9: the shards of one logical run (`audit --run-name NAME --shard K/N`)
    // share one row of runs, found by its name (unique, so shards starting at
    // once create it exactly once; NULL for every other run), with
    // shard_count N and shard_index NULL. run_shards holds each shard's
    // progress; the run completes when all N of them have.
    R"sql(
ALTER TABLE runs ADD COLUMN name TEXT;
CREATE UNIQUE INDEX runs_by_name ON runs (name) WHERE name IS NOT NULL;
CREATE TABLE run_shards (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  shard_index INTEGER NOT NULL,
  shard_count INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'interrupted', 'failed')),
  started_at TEXT NOT NULL,
  finished_at TEXT,
  count_total INTEGER NOT NULL DEFAULT 0,
  count_pass INTEGER NOT NULL DEFAULT 0,
  count_warn INTEGER NOT NULL DEFAULT 0,
  count_fail INTEGER NOT NULL DEFAULT 0,
  count_unknown INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 1,  -- 2 and more: re-run after a stop, resumed
  PRIMARY KEY (run_id, shard_index)
) WITHOUT ROWID;
)sql",
    // 10: results again, its CHECK constraints written as comparisons.
    // SQLite evaluates a CHECK's `x IN ('a', 'b')` by building a temporary
    // index on every insert, which cost 1.8 µs of a stored result's 4.5;
    // an OR of equalities accepts the same values for a tenth of that.
    // results_by_ip goes: keeping it cost 0.7 µs per insert, and `history
    // IP` finds an address's rows just as well run by run through the
    // primary key (one lookup per run, newest first).
    R"sql(
CREATE TABLE results_checked (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  family TEXT NOT NULL CHECK (family = 'ipv4' OR family = 'ipv6'),
  address BLOB NOT NULL,  -- 4 or 16 bytes in network order
  status TEXT NOT NULL
    CHECK (status = 'pass' OR status = 'warn' OR status = 'fail' OR status = 'unknown'),
  ptr TEXT NOT NULL,      -- JSON array of names
  forward TEXT NOT NULL,  -- JSON array of {"name", "addresses"}
  sources TEXT NOT NULL DEFAULT '[]',   -- JSON array
  findings TEXT NOT NULL DEFAULT '[]',  -- JSON array
  smtp TEXT,              -- JSON object, NULL when SMTP was not checked
  PRIMARY KEY (run_id, ip)
) WITHOUT ROWID;
INSERT INTO results_checked (run_id, ip, family, address, status, ptr, forward, sources,
                             findings, smtp)
  SELECT run_id, ip, family, address, status, ptr, forward, sources, findings, smtp FROM results;
DROP TABLE results;
ALTER TABLE results_checked RENAME TO results;
)sql",
};

}  // namespace rdns::db
