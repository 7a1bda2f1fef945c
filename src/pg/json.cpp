#include "pg/json.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "utils/json.h"
}

namespace colmig::pg {

std::string json_string(const std::string &value) {
  const char *text = value.c_str();
  return std::string(call([&] {
    StringInfoData buffer;
    initStringInfo(&buffer);
    escape_json(&buffer, text);
    return buffer.data;
  }));
}

JsonObject &JsonObject::add_json(const char *key, const std::string &json) {
  members_ += (members_.empty() ? "" : ",") + json_string(key) + ":" + json;
  return *this;
}

JsonObject &JsonObject::add(const char *key, const std::string &value) {
  return add_json(key, json_string(value));
}

JsonObject &JsonObject::add(const char *key, std::int64_t value) {
  return add_json(key, std::to_string(value));
}

JsonObject &JsonObject::add(const char *key, bool value) {
  return add_json(key, value ? "true" : "false");
}

} // namespace colmig::pg
