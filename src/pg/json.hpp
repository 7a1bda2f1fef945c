// A JSON object built from C++ values, for the arguments a job stores
// (colmig.jobs.args): strings escaped as PostgreSQL's json type does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace colmig::pg {

class JsonObject {
public:
  JsonObject &add(const char *key, const std::string &value);
  JsonObject &add(const char *key, std::int64_t value);
  JsonObject &add(const char *key, bool value);
  // A raw JSON value (an array built with json_array()).
  JsonObject &add_json(const char *key, const std::string &json);
  std::string text() const { return "{" + members_ + "}"; }

private:
  std::string members_;
};

// A JSON string literal.
std::string json_string(const std::string &value);

// JSON arrays of numbers and of strings (an empty optional is null).
template <typename Range> std::string json_number_array(const Range &values) {
  std::string json;
  for (const auto &value : values)
    json += (json.empty() ? "" : ",") + std::to_string(value);
  return "[" + json + "]";
}
template <typename Range> std::string json_string_array(const Range &values) {
  std::string json;
  for (const std::optional<std::string> &value : values)
    json +=
        (json.empty() ? "" : ",") + (value ? json_string(*value) : std::string("null"));
  return "[" + json + "]";
}

} // namespace colmig::pg
