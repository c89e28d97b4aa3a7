#include "estimate/estimate_table.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "arch/core/limits.hpp"

namespace lpusim::cli {

namespace {

std::string with_separators(long long v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string table_value(const EstimateRow& row) {
  if (const auto* s = std::get_if<std::string>(&row.value)) return one_line(*s);
  if (const auto* i = std::get_if<long long>(&row.value)) return with_separators(*i);
  const double v = std::get<double>(row.value);
  if (row.decimals == 0 && std::abs(v) < 9e18) return with_separators(std::llround(v));
  return fmt::format("{:.{}f}", v, row.decimals);
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_value(const EstimateRow& row) {
  if (const auto* s = std::get_if<std::string>(&row.value)) return csv_field(*s);
  if (const auto* i = std::get_if<long long>(&row.value)) return std::to_string(*i);
  return fmt::format("{}", std::get<double>(row.value));  // shortest round-trip form
}

}  // namespace

std::string estimate_table(const std::vector<EstimateRow>& rows) {
  // Values align on the decimal point: integer parts right-aligned, fractions left-aligned.
  std::size_t label_width = std::string("metric").size(), whole_width = 0, fraction_width = 0;
  std::vector<std::pair<std::string, std::string>> split;
  for (const auto& row : rows) {
    label_width = std::max(label_width, row.label.size());
    const std::string v = table_value(row);
    const bool text = std::holds_alternative<std::string>(row.value);
    const std::size_t dot = text ? std::string::npos : v.find('.');
    split.emplace_back(dot == std::string::npos ? v : v.substr(0, dot), dot == std::string::npos ? "" : v.substr(dot));
    if (!text) whole_width = std::max(whole_width, split.back().first.size());
    fraction_width = std::max(fraction_width, split.back().second.size());
  }
  const std::size_t value_width = std::max<std::size_t>(whole_width + fraction_width, 5);
  std::string out = fmt::format("  {:<{}}  {:>{}}  {}\n", "metric", label_width, "value", value_width, "unit");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& [whole, fraction] = split[i];
    std::string value;
    if (std::holds_alternative<std::string>(rows[i].value))
      value = fmt::format("{:>{}}", whole, value_width);
    else
      value = fmt::format("{:>{}}{:<{}}", whole, value_width - fraction_width, fraction, fraction_width);
    std::string line = fmt::format("  {:<{}}  {}  {}", rows[i].label, label_width, value, rows[i].unit);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string estimate_csv(const std::vector<EstimateRow>& rows) {
  std::string keys, values;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    keys += (i ? "," : "") + rows[i].key;
    values += (i ? "," : "") + csv_value(rows[i]);
  }
  return keys + "\n" + values + "\n";
}

}  // namespace lpusim::cli
