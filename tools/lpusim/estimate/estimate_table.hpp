#pragma once
// The estimate's figures as one list of rows, printed as an aligned table for people
// (metric, value, unit) or as CSV for machines (a header of the rows' keys, one line of
// values: estimates of several models or chips append into one file). The JSON output is
// built beside it from the same numbers.
#include <string>
#include <variant>
#include <vector>

namespace lpusim::cli {

struct EstimateRow {
  std::string key;    ///< CSV column: snake_case with its unit ("decode_latency_us")
  std::string label;  ///< table: what a person reads ("per-token latency, with host I/O")
  std::variant<std::string, long long, double> value;
  std::string unit;   ///< table: "us", "tokens/s", "cycles", "%", "" for text and counts
  int decimals = 2;   ///< for doubles
};

/// Metric, value and unit columns, values right-aligned on their decimal point; integers with
/// thousands separators. Every line ends in '\n'.
std::string estimate_table(const std::vector<EstimateRow>& rows);

/// Two lines: the keys, then the values (RFC 4180 quoting where a value needs it; doubles
/// with all the digits they need to round-trip).
std::string estimate_csv(const std::vector<EstimateRow>& rows);

}  // namespace lpusim::cli
