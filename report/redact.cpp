#include "report/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace vpt {

namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
// Characters of a host name label or a user name.
bool is_word(char c) { return is_alnum(c) || c == '-' || c == '_'; }

bool iequals_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (lower(text[pos + i]) != lower(word[i])) return false;
  return true;
}

bool ends_with_ci(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && iequals_at(text, text.size() - suffix.size(), suffix);
}

// Where a token that may be a path or a file name stops.
bool ends_token(char c) {
  return is_space(c) || c == '\'' || c == '"' || c == '<' || c == '>' || c == '(' || c == ')' || c == '[' ||
         c == ']' || c == ',' || c == ';' || c == '|' || c == '`' || c == '=';
}

// Sentence punctuation after a path is not part of it.
std::size_t trim_trailing_punctuation(std::string_view text, std::size_t begin, std::size_t end) {
  while (end > begin && (text[end - 1] == '.' || text[end - 1] == ':' || text[end - 1] == '!' ||
                         text[end - 1] == '?'))
    --end;
  return end;
}

// ---- Passes, each text -> text ---------------------------------------------

std::string secret_paths(std::string text, const RedactionSecrets& secrets) {
  std::vector<std::string> paths;
  for (const std::string& p : secrets.paths)
    if (!p.empty() && p != "-") paths.push_back(p);
  // Longest first, so that "/a/b/c.json" goes before "/a/b".
  std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const std::string& p : paths) {
    std::string shown = redact_path(p);
    if (shown == p) continue;
    std::string out;
    for (std::size_t pos = 0;;) {
      std::size_t hit = text.find(p, pos);
      if (hit == std::string::npos) {
        out.append(text, pos);
        break;
      }
      out.append(text, pos, hit - pos);
      out += shown;
      pos = hit + p.size();
    }
    text = std::move(out);
  }
  return text;
}

std::string hostnames(std::string_view text, const RedactionSecrets& secrets) {
  std::vector<std::string> names;
  for (const std::string& h : secrets.hostnames) {
    if (h.empty()) continue;
    names.push_back(h);
    auto dot = h.find('.');
    if (dot != std::string::npos && dot >= 2) names.push_back(h.substr(0, dot));  // the short name
  }
  std::sort(names.begin(), names.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    // Whole words, where '-' and '_' also separate: "alice-desktop-lscpu.txt"
    // names the host too.
    bool at_word_start = i == 0 || (!is_alnum(text[i - 1]) && text[i - 1] != '.');
    std::size_t matched = 0;
    if (at_word_start)
      for (const std::string& name : names)
        if (iequals_at(text, i, name) && (i + name.size() == text.size() || !is_alnum(text[i + name.size()]))) {
          matched = name.size();
          break;
        }
    if (!matched) {
      out += text[i++];
      continue;
    }
    std::size_t end = i + matched;
    // "box" also hides "box.example.com": take the domain labels that follow.
    while (end + 1 < text.size() && text[end] == '.' && is_word(text[end + 1])) {
      std::size_t next = end + 1;
      while (next < text.size() && is_word(text[next])) ++next;
      end = next;
    }
    out += "[host]";
    i = end;
  }
  return out;
}

std::string uri_authorities(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "://") == 0 && i > 0 && is_alnum(text[i - 1])) {
      std::size_t end = i + 3;
      // user@host:port, up to the path; "[host]" from an earlier pass included.
      while (end < text.size() && text[end] != '/' && !is_space(text[end]) && text[end] != '\'' &&
             text[end] != '"' && text[end] != '<' && text[end] != '>')
        ++end;
      out += "://";
      if (end > i + 3) out += "[host]";
      i = end;
      continue;
    }
    out += text[i++];
  }
  return out;
}

bool uuid_at(std::string_view text, std::size_t i) {
  if (i + 36 > text.size()) return false;
  if (i > 0 && (is_alnum(text[i - 1]) || text[i - 1] == '-')) return false;
  if (i + 36 < text.size() && (is_alnum(text[i + 36]) || text[i + 36] == '-')) return false;
  for (std::size_t k = 0; k < 36; ++k) {
    bool dash = k == 8 || k == 13 || k == 18 || k == 23;
    if (dash ? text[i + k] != '-' : !is_hex(text[i + k])) return false;
  }
  return true;
}

bool mac_at(std::string_view text, std::size_t i) {
  if (i + 17 > text.size()) return false;
  auto joins = [](char c) { return c == ':' || c == '-'; };
  if (i > 0 && (is_alnum(text[i - 1]) || joins(text[i - 1]))) return false;
  if (i + 17 < text.size() && (is_alnum(text[i + 17]) || joins(text[i + 17]))) return false;
  char sep = text[i + 2];
  if (!joins(sep)) return false;
  for (std::size_t k = 0; k < 17; ++k) {
    bool at_sep = k % 3 == 2;
    if (at_sep ? text[i + k] != sep : !is_hex(text[i + k])) return false;
  }
  return true;
}

std::string uuids_and_macs(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (uuid_at(text, i)) {
      out += "[uuid]";
      i += 36;
    } else if (mac_at(text, i)) {
      out += "[mac]";
      i += 17;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string serials(std::string_view text) {
  static constexpr std::array<std::string_view, 2> kKeys = {"serial", "s/n"};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t key_end = 0;
    if (i == 0 || !is_alnum(text[i - 1]))
      for (std::string_view key : kKeys)
        if (iequals_at(text, i, key)) key_end = i + key.size();
    if (!key_end) {
      out += text[i++];
      continue;
    }
    // "serial", "serial number", "serial_number", "serialno", "serial no."
    std::size_t p = key_end;
    for (std::string_view suffix : {" number", "_number", "-number", "number", " no.", "no", " no"})
      if (iequals_at(text, p, suffix)) {
        p += suffix.size();
        break;
      }
    if (p < text.size() && is_alnum(text[p])) {  // "serialize", "serials"
      out.append(text.substr(i, p - i));
      i = p;
      continue;
    }
    while (p < text.size() && (text[p] == '"' || text[p] == '\'' || text[p] == ' ')) ++p;
    if (p >= text.size() || (text[p] != ':' && text[p] != '=' && text[p] != '>')) {
      out.append(text.substr(i, p - i));
      i = p;
      continue;
    }
    ++p;
    while (p < text.size() && (text[p] == '"' || text[p] == '\'' || text[p] == ' ')) ++p;
    std::size_t value_end = p;
    while (value_end < text.size() && !is_space(text[value_end]) && text[value_end] != '"' &&
           text[value_end] != '\'' && text[value_end] != '<' && text[value_end] != ',' && text[value_end] != ';')
      ++value_end;
    out.append(text.substr(i, p - i));
    if (value_end > p) out += "[serial]";
    i = value_end;
  }
  return out;
}

constexpr std::array<std::string_view, 9> kDiskImageExtensions = {".qcow2", ".img", ".raw",  ".iso", ".vmdk",
                                                                   ".vdi",   ".vhd", ".vhdx", ".qed"};

bool is_disk_image(std::string_view token) {
  return std::any_of(kDiskImageExtensions.begin(), kDiskImageExtensions.end(),
                     [&](std::string_view ext) { return token.size() > ext.size() && ends_with_ci(token, ext); });
}

std::string disk_images(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (ends_token(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && !ends_token(text[end])) ++end;
    std::size_t trimmed = trim_trailing_punctuation(text, i, end);
    std::string_view token = text.substr(i, trimmed - i);
    if (is_disk_image(token)) {
      out += "[disk image]";
      out.append(text.substr(trimmed, end - trimmed));
    } else {
      out.append(text.substr(i, end - i));
    }
    i = end;
  }
  return out;
}

// Paths named the same on every Linux host: nothing personal in them.
bool is_system_path(std::string_view path) {
  static constexpr std::array<std::string_view, 10> kSystem = {"/proc/", "/sys/", "/etc/",   "/usr/", "/bin/",
                                                              "/sbin/", "/lib/", "/lib64/", "/run/", "/dev/"};
  if (path.starts_with("/dev/disk/")) return false;  // by-id and by-uuid names carry serials
  return std::any_of(kSystem.begin(), kSystem.end(), [&](std::string_view p) { return path.starts_with(p); });
}

std::string paths(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool boundary = i == 0 || ends_token(text[i - 1]) || text[i - 1] == ':';
    bool home = text[i] == '~' && i + 1 < text.size() && text[i + 1] == '/';
    bool absolute = text[i] == '/' && !(i > 0 && text[i - 1] == ':' && text.compare(i, 2, "//") == 0);
    if (!boundary || !(home || absolute)) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && !ends_token(text[end])) ++end;
    end = trim_trailing_punctuation(text, i, end);
    std::string_view token = text.substr(i, end - i);
    // A path has a second component ("/dev/sda", "~/x"); "/" or "/s" alone is prose.
    bool is_path = home ? token.size() > 2 : token.find('/', 1) != std::string_view::npos && token.size() > 2 &&
                                                 token[1] != '/';
    if (!is_path || is_system_path(token)) {
      out.append(token);
    } else {
      out += "[path]";
    }
    i = std::max(end, i + 1);
  }
  return out;
}

}  // namespace

std::string redact_text(std::string_view text, const RedactionSecrets& secrets) {
  std::string out = secret_paths(std::string(text), secrets);
  out = hostnames(out, secrets);
  out = uri_authorities(out);
  out = uuids_and_macs(out);
  out = serials(out);
  out = disk_images(out);
  out = paths(out);
  return out;
}

std::string redact_path(std::string_view path) {
  if (path == "-") return "-";
  std::string_view base = path;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  if (auto slash = base.rfind('/'); slash != std::string_view::npos) base = base.substr(slash + 1);
  if (is_disk_image(base)) return "[disk image]";
  if (base.empty()) return "[path]";
  return std::string(base);
}

}  // namespace vpt
