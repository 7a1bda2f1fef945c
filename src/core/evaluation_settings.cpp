#include "core/evaluation_settings.hpp"

#include <cctype>
#include <vector>

namespace colmig::core {

namespace {

std::string trim(std::string_view text) {
  std::size_t first = 0;
  std::size_t last = text.size();
  while (first < last && std::isspace(static_cast<unsigned char>(text[first])))
    ++first;
  while (last > first && std::isspace(static_cast<unsigned char>(text[last - 1])))
    --last;
  return std::string(text.substr(first, last - first));
}

// The elements of a search_path, as written (quoted ones keep their quotes).
std::vector<std::string> elements(std::string_view path) {
  std::vector<std::string> result;
  std::string current;
  bool quoted = false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '"') {
      // "" inside quotes is a quote character.
      if (quoted && i + 1 < path.size() && path[i + 1] == '"') {
        current += "\"\"";
        ++i;
        continue;
      }
      quoted = !quoted;
      current += c;
    } else if (c == ',' && !quoted) {
      result.push_back(trim(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!trim(current).empty() || !result.empty())
    result.push_back(trim(current));
  return result;
}

// pg_temp, and a session's temporary schema named outright (pg_temp_3):
// whichever session's it would be, it is not the creator's to trust.
bool is_temp_schema(const std::string &element) {
  std::string name = element;
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  } else {
    for (char &c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name.rfind("pg_temp", 0) == 0;
}

} // namespace

std::string with_temp_schema_last(std::string_view path) {
  std::string result;
  for (const std::string &element : elements(path)) {
    if (element.empty() || is_temp_schema(element))
      continue;
    result += element + ", ";
  }
  return result + "pg_temp";
}

} // namespace colmig::core
