// rdnsctl ptr change IP NAME: the staged value change (the engine's
// Engine::change; its steps are printed as they happen).

#include "ptr_workflow.hpp"

namespace rdns::cli {

void add_ptr_change_command(CLI::App& ptr, const std::shared_ptr<PtrOptions>& options,
                            Context& context) {
  Context* ctx = &context;
  CLI::App* change =
      ptr.add_subcommand("change",
                         "Switch an IP's PTR value in stages: lower the TTL, wait out the old one, "
                         "switch, confirm in DNS, restore the TTL; re-run to resume");
  change->add_option("ip", options->ip, "IPv4 address with a record")->required();
  change->add_option("name", options->name, "The new value")->required();
  change->add_option("--ttl", options->ttl, "TTL after the change (default: the current one)")
      ->check(whole_number_range(1, 86400));
  change->add_option("--low-ttl", options->low_ttl, "TTL held during the switch")
      ->default_val(60)
      ->check(whole_number_range(1, 86400));
  change->add_flag("--allow-unconfirmed", options->allow_unconfirmed,
                   "Switch even when the new name's A record does not hold the IP");
  change->callback([options, ctx] {
    PtrSession session = open_session(*options, SessionUse::write);
    const provision::ChangeOutcome outcome = session.engine->change(
        {options->ip, options->name, options->ttl, options->low_ttl, options->allow_unconfirmed});
    ctx->exit_code = outcome == provision::ChangeOutcome::done ? kExitOk : kExitFindings;
  });
}

}  // namespace rdns::cli
