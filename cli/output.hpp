#pragma once
/// Renders audit results for people (table) and programs (json, jsonl, csv).
/// Every value shown went through escaping when it was recorded; the table
/// escapes once more so nothing reaches a terminal raw.

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <db/database.hpp>
#include <run/observer.hpp>
#include <util/error.hpp>

namespace rdns::cli {

enum class Format { table, json, jsonl, csv };
enum class ColorMode { automatic, always, never };

/// Whether to colour output written to `stream`: only for a terminal, and
/// never when NO_COLOR is set (https://no-color.org) unless forced.
bool use_color(ColorMode mode, std::FILE* stream);

/// The reader of the output went away; see run/observer.hpp.
using run::OutputClosed;

/// Receives results one at a time; formats that stream write at once, the
/// others sort by address and write in finish(). Formats without a place
/// for domain findings ignore them (they are also printed to stderr and
/// stored).
using ResultPrinter = run::ResultObserver;

/// `shards`: a named run's, which the JSON document lists under "shards".
std::unique_ptr<ResultPrinter> make_printer(Format format, std::FILE* out, bool color,
                                            std::optional<std::int64_t> run_id,
                                            const std::vector<db::ShardProgress>& shards = {});

/// Writes text to out; a failed write is rdns::Error (Errc::io) or
/// OutputClosed, as for the result printers.
void write_output(std::FILE* out, const std::string& text);
void flush_output(std::FILE* out);

/// "K/N": the part of a sharded audit a run covered.
std::string shard_text(const db::RunShard& shard);

/// What a run audited, as the tables show it: its inventory, or for an
/// ad-hoc run its command in parentheses ("(audit)", "(check)"), and the
/// shard of a sharded run ("(audit) shard 2/4").
std::string run_series(const db::RunInfo& run);

/// The run list as a table or JSON.
void print_runs(const std::vector<db::RunInfo>& runs, Format format, std::FILE* out);
/// One run's header and counts, before its results; a named run's shards
/// (those not started yet too) below it.
void print_run_header(const db::RunInfo& run, const std::vector<db::ShardProgress>& shards,
                      std::FILE* out);

}  // namespace rdns::cli
