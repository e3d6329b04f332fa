#include <reports/report.hpp>
#include <util/error.hpp>

namespace rdns::reports {

void write_html_report(const ReportData&, std::ostream&) {
  throw Error(Errc::usage, "HTML reports are not implemented yet; use --format csv");
}

}  // namespace rdns::reports
