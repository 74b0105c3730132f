#include "report/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "bench/results.hpp"
#include "check/findings.hpp"
#include "check/findings_writers.hpp"
#include "optimizer/plan_writers.hpp"
#include "probe/topology_writers.hpp"
#include "virt/domain.hpp"

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

// The scheme that ends where "://" starts, at `colon`: http, https, ftp.
bool web_scheme_at(std::string_view text, std::size_t colon) {
  std::string scheme;
  for (std::size_t i = colon; i > 0 && (is_alnum(text[i - 1]) || text[i - 1] == '+' || text[i - 1] == '-' ||
                                        text[i - 1] == '.');
       --i)
    scheme.insert(scheme.begin(), lower(text[i - 1]));
  return scheme == "http" || scheme == "https" || scheme == "ftp";
}

// Where a URL ends: at whitespace, a quote or an angle bracket.
std::size_t url_end(std::string_view text, std::size_t from) {
  while (from < text.size() && !is_space(text[from]) && text[from] != '\'' && text[from] != '"' && text[from] != '<' &&
         text[from] != '>' && text[from] != '`')
    ++from;
  return from;
}

// Characters of a host name token: labels and the dots of an FQDN ('_' too:
// NetBIOS names and file names have it). Anything else ends a token.
bool is_host_char(char c) { return is_word(c) || c == '.'; }

// "example.org", "lan": DNS labels (letters, digits, inner '-') joined by
// dots. "nr_hugepages" is none: '_' is no DNS character.
bool is_dns_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t begin = 0; begin <= name.size();) {
    std::size_t end = name.find('.', begin);
    if (end == std::string_view::npos) end = name.size();
    std::string_view label = name.substr(begin, end - begin);
    if (label.empty() || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; }))
      return false;
    begin = end + 1;
  }
  return true;
}

struct HostName {
  std::string name, shown;
};

// "[host]" for the first host name, "[host 2]" for a second one, ...: a report
// comparing two hosts still says they differ without saying which they are.
std::vector<HostName> host_names(const RedactionSecrets& secrets) {
  std::vector<HostName> names;
  std::vector<std::string> hosts;  // distinct, lower case, in order
  for (const std::string& h : secrets.hostnames) {
    if (h.empty()) continue;
    std::string key;
    for (char c : h) key += lower(c);
    auto it = std::find(hosts.begin(), hosts.end(), key);
    if (it == hosts.end()) it = hosts.insert(hosts.end(), key);
    std::size_t n = static_cast<std::size_t>(it - hosts.begin()) + 1;
    std::string shown = n == 1 ? "[host]" : "[host " + std::to_string(n) + "]";
    names.push_back({h, shown});
    auto dot = h.find('.');
    if (dot != std::string::npos && dot >= 2) names.push_back({h.substr(0, dot), shown});  // the short name
    // The host's own domain alone ("example.com" of "box.example.com"): it names
    // the person's network. A one-label domain ("lan") is a common word.
    if (dot != std::string::npos && h.find('.', dot + 1) != std::string::npos)
      names.push_back({h.substr(dot + 1), "[domain]"});
  }
  std::stable_sort(names.begin(), names.end(), [](const auto& a, const auto& b) { return a.name.size() > b.name.size(); });
  return names;
}

// A whole token that is a host name: the name itself ("vm", "VM"), or the
// name with domain labels after it ("vm.example.org"). "vm.nr_hugepages"
// (a sysctl) and "vm-win11" are other tokens.
const HostName* host_token(std::string_view token, const std::vector<HostName>& names) {
  for (const HostName& n : names) {
    if (!iequals_at(token, 0, n.name)) continue;
    if (token.size() == n.name.size()) return &n;
    if (token[n.name.size()] == '.' && is_dns_name(token.substr(n.name.size() + 1))) return &n;
  }
  return nullptr;
}

// A file name from the command line ("alice-desktop-lscpu.txt"): its words,
// split at '-', '_' and '.', may name the host.
std::string host_words_in_file_name(std::string_view name, const std::vector<HostName>& names) {
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    const HostName* matched = nullptr;
    if (i == 0 || !is_alnum(name[i - 1]))
      for (const HostName& n : names)
        if (iequals_at(name, i, n.name) && (i + n.name.size() == name.size() || !is_alnum(name[i + n.name.size()]))) {
          matched = &n;
          break;
        }
    if (!matched) {
      out += name[i++];
      continue;
    }
    out += matched->shown;
    i += matched->name.size();
  }
  return out;
}

// Host names as whole tokens: a token runs from a character that cannot be in
// a host name to the next one (space, quotes, brackets, '/', ':', '@', ',',
// ...); a dot at its end is the sentence's. Inside the base names of the files
// named on the command line, host names are words ("[host]-lscpu.txt").
// `quoted_only`: only tokens inside a quoted value ('vm', "vm"; not an XML
// attribute's mode='...'), the values vpt-tune writes into its own sentences.
std::string hostnames(std::string_view text, const RedactionSecrets& secrets, bool quoted_only = false) {
  const std::vector<HostName> names = host_names(secrets);
  if (names.empty()) return std::string(text);
  std::vector<std::string> file_names;
  for (const std::string& p : secrets.paths)
    if (!p.empty() && p != "-") file_names.push_back(redact_path(p));
  std::string out;
  char quote = 0;  // the quote of the value being read, if any
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\'' || c == '"') {
      if (quote == c && (i + 1 == text.size() || !is_alnum(text[i + 1])))
        quote = 0;  // "the guest's" has no closing quote: a letter follows
      else if (!quote && (i == 0 || (!is_alnum(text[i - 1]) && text[i - 1] != '=')))
        quote = c;
      out += text[i++];
      continue;
    }
    if (text.compare(i, 3, "://") == 0 && web_scheme_at(text, i)) {
      // A web address: its host may be the person's, its path is the server's.
      const std::size_t end = url_end(text, i);
      std::size_t host_end = i + 3;
      while (host_end < end && text[host_end] != '/' && text[host_end] != '?' && text[host_end] != '#') ++host_end;
      const std::string_view host = text.substr(i + 3, host_end - i - 3);
      out += "://";
      out += quoted_only && !quote ? std::string(host) : hostnames(host, secrets);
      out.append(text.substr(host_end, end - host_end));
      i = end;
      continue;
    }
    if (!is_host_char(c) || (i > 0 && is_host_char(text[i - 1]))) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && is_host_char(text[end])) ++end;
    while (end > i + 1 && text[end - 1] == '.') --end;
    const std::string_view token = text.substr(i, end - i);
    i = end;
    if (quoted_only && !quote) {
      out.append(token);
    } else if (const HostName* n = host_token(token, names)) {
      out += n->shown;
    } else if (std::find(file_names.begin(), file_names.end(), token) != file_names.end()) {
      out += host_words_in_file_name(token, names);
    } else {
      out.append(token);
    }
  }
  return out;
}

// Web addresses in vpt-tune's own words name documentation, not the person:
// there http, https and ftp keep their host unless it is a private one
// (".lan", ".local", ".home.arpa", ..., or no dot at all); an IP or a known
// host name is hidden by its own pass, a user in it by the e-mail pass. In a
// value from the inputs (a domain's <description>) a public host may be the
// person's own ("nas.smith-family.net"): only the tool's text keeps it. Every
// other scheme (a libvirt URI: "qemu+ssh://alice@box/system") names a machine
// of the person's: its authority becomes "[host]".
bool keeps_authority(std::string_view text, std::size_t colon, std::string_view authority) {
  if (!web_scheme_at(text, colon)) return false;
  if (authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority.substr(0, authority.find(':'));
  if (host.starts_with("[")) return true;  // "[ip]", "[host]" from the passes before
  if (host.find('.') == std::string_view::npos) return false;
  static constexpr std::array<std::string_view, 8> kPrivate = {".lan", ".local", ".home", ".arpa", ".internal",
                                                               ".localdomain", ".corp", ".intranet"};
  return std::none_of(kPrivate.begin(), kPrivate.end(), [&](std::string_view s) { return ends_with_ci(host, s); });
}

std::string uri_authorities(std::string_view text, bool tool_text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "://") == 0 && i > 0 && is_alnum(text[i - 1])) {
      std::size_t end = i + 3;
      // user@host:port, up to the path; "[host]" from an earlier pass included.
      while (end < text.size() && text[end] != '/' && !is_space(text[end]) && text[end] != '\'' &&
             text[end] != '"' && text[end] != '<' && text[end] != '>')
        ++end;
      const std::string_view authority = text.substr(i + 3, end - i - 3);
      out += "://";
      if (tool_text && keeps_authority(text, i, authority)) out.append(authority);
      else if (!authority.empty()) out += "[host]";
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

// "bc24.115a.2b01" (Cisco's dotted form of a MAC).
bool dotted_mac_at(std::string_view text, std::size_t i) {
  if (i + 14 > text.size()) return false;
  if (i > 0 && (is_alnum(text[i - 1]) || text[i - 1] == '.')) return false;
  if (i + 14 < text.size() && (is_alnum(text[i + 14]) || text[i + 14] == '.')) return false;
  for (std::size_t k = 0; k < 14; ++k)
    if (k % 5 == 4 ? text[i + k] != '.' : !is_hex(text[i + k])) return false;
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
    } else if (dotted_mac_at(text, i)) {
      out += "[mac]";
      i += 14;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// Runs of letters and digits that are all hex: 32 of them are a UUID without
// dashes (or another 128-bit id), 12 with a letter and a digit a MAC without
// separators ("BC24115A2B01"). Numbers alone stay (byte counts have 12 digits).
std::string bare_hex_ids(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (!is_alnum(text[i]) || (i > 0 && (is_alnum(text[i - 1]) || text[i - 1] == '-' || text[i - 1] == ':'))) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && is_alnum(text[end])) ++end;
    std::string_view run = text.substr(i, end - i);
    const bool hex = std::all_of(run.begin(), run.end(), is_hex);
    const bool letter = std::any_of(run.begin(), run.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
    const bool digit = std::any_of(run.begin(), run.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
    const bool joined = end < text.size() && (text[end] == '-' || text[end] == ':');
    if (hex && !joined && run.size() == 32) out += "[uuid]";
    else if (hex && !joined && run.size() == 12 && letter && digit) out += "[mac]";
    else out.append(run);
    i = end;
  }
  return out;
}

// An IPv4 address (with an optional /prefix): four numbers of at most 255.
std::size_t ipv4_length(std::string_view text, std::size_t i) {
  if (i > 0 && (is_alnum(text[i - 1]) || text[i - 1] == '.')) return 0;
  std::size_t p = i;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (p >= text.size() || text[p] != '.') return 0;
      ++p;
    }
    std::size_t start = p;
    unsigned value = 0;
    while (p < text.size() && p - start < 4 && std::isdigit(static_cast<unsigned char>(text[p])))
      value = value * 10 + static_cast<unsigned>(text[p++] - '0');
    if (p == start || p - start > 3 || value > 255) return 0;
  }
  if (p < text.size() && text[p] == '/' && p + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[p + 1]))) {
    ++p;
    while (p < text.size() && std::isdigit(static_cast<unsigned char>(text[p]))) ++p;
  }
  if (p < text.size() && (is_alnum(text[p]) || (text[p] == '.' && p + 1 < text.size() && is_alnum(text[p + 1]))))
    return 0;
  return p - i;
}

// An IPv6 address: groups of 1-4 hex digits joined by ':', eight of them or
// fewer with one "::". A PCI address ("0000:01:00.0") and a time ("12:34:56")
// are not: they end in '.' or have three groups without "::".
std::size_t ipv6_length(std::string_view text, std::size_t i) {
  if (i > 0 && (is_alnum(text[i - 1]) || text[i - 1] == ':' || text[i - 1] == '.')) return 0;
  std::size_t end = i;
  while (end < text.size() && (is_hex(text[end]) || text[end] == ':')) ++end;
  if (end < text.size() && (is_alnum(text[end]) || text[end] == '.')) return 0;
  std::string_view run = text.substr(i, end - i);
  const std::size_t gap = run.find("::");
  if (gap != std::string_view::npos && run.find("::", gap + 1) != std::string_view::npos) return 0;
  if (run.find(":::") != std::string_view::npos) return 0;
  unsigned groups = 0;
  for (std::size_t k = 0; k < run.size();) {
    if (run[k] == ':') {
      ++k;
      continue;
    }
    std::size_t start = k;
    while (k < run.size() && run[k] != ':') ++k;
    if (k - start > 4) return 0;
    ++groups;
  }
  const bool ok = gap == std::string_view::npos ? groups == 8 : groups >= 2 && groups <= 7;
  return ok ? run.size() : 0;
}

std::string ip_addresses(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = ipv4_length(text, i);
    if (!n) n = ipv6_length(text, i);
    if (n) {
      out += "[ip]";
      i += n;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// "alice@example.com" -> "[email]", "root@pve1" -> "[account]".
std::string emails(std::string_view text) {
  auto local_char = [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; };
  std::string out;
  std::size_t copied = 0;
  for (std::size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1)) {
    if (at < copied) continue;
    std::size_t begin = at;
    while (begin > copied && local_char(text[begin - 1])) --begin;
    std::size_t end = at + 1;
    while (end < text.size() && (is_word(text[end]) || (text[end] == '.' && end + 1 < text.size() && is_word(text[end + 1]))))
      ++end;
    if (begin == at || end == at + 1 || !is_alnum(text[at + 1])) continue;
    const bool dotted = text.substr(at + 1, end - at - 1).find('.') != std::string_view::npos;
    out.append(text.substr(copied, begin - copied));
    out += dotted ? "[email]" : "[account]";
    copied = end;
    at = end - 1;
  }
  out.append(text.substr(copied));
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
    const bool numbered = p > key_end;  // "serial number X" says what X is without ':' or '='
    if (p < text.size() && is_alnum(text[p])) {  // "serialize", "serials"
      out.append(text.substr(i, p - i));
      i = p;
      continue;
    }
    const std::size_t after_key = p;
    while (p < text.size() && (text[p] == '"' || text[p] == '\'' || text[p] == ' ')) ++p;
    const bool separated = p < text.size() && (text[p] == ':' || text[p] == '=' || text[p] == '>');
    if (!separated && !(numbered && p > after_key && p < text.size() && is_alnum(text[p]))) {
      out.append(text.substr(i, p - i));
      i = p;
      continue;
    }
    if (separated) ++p;
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

// Paths named the same on every Linux host: nothing personal in them. Under
// /dev only device nodes ("/dev/sda", "/dev/kvm") and the kernel's own
// directories: /dev/disk/by-id names carry serials, /dev/mapper, /dev/zvol and
// an LVM volume group's directory carry the names people give their volumes.
bool is_system_path(std::string_view path) {
  static constexpr std::array<std::string_view, 9> kSystem = {"/proc/", "/sys/",   "/etc/", "/usr/", "/bin/",
                                                             "/sbin/", "/lib/", "/lib64/", "/run/"};
  static constexpr std::array<std::string_view, 11> kDevDirs = {"vfio/", "dri/", "snd/",  "bus/",   "cpu/", "pts/",
                                                               "net/",  "hugepages", "shm/", "char/", "block/"};
  if (path.starts_with("/run/user/")) return false;  // a user's id
  if (path.starts_with("/dev/")) {
    std::string_view rest = path.substr(5);
    if (rest.find('/') == std::string_view::npos) return true;
    return std::any_of(kDevDirs.begin(), kDevDirs.end(), [&](std::string_view d) { return rest.starts_with(d); });
  }
  return std::any_of(kSystem.begin(), kSystem.end(), [&](std::string_view p) { return path.starts_with(p); });
}

std::string paths(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "://") == 0 && web_scheme_at(text, i)) {  // a web page's path: not a file here
      const std::size_t end = url_end(text, i);
      out.append(text.substr(i, end - i));
      i = end;
      continue;
    }
    bool boundary = i == 0 || ends_token(text[i - 1]) || text[i - 1] == ':';
    bool home = text[i] == '~' && i + 1 < text.size() && text[i + 1] == '/';
    bool absolute = text[i] == '/' && !(i > 0 && text[i - 1] == ':' && text.compare(i, 2, "//") == 0);
    // "C:\Users\alice\...": a Windows path names its user as a home does.
    bool windows = std::isalpha(static_cast<unsigned char>(text[i])) != 0 && i + 2 < text.size() &&
                   text[i + 1] == ':' && text[i + 2] == '\\' && (i == 0 || !is_alnum(text[i - 1]));
    if (windows) {
      std::size_t end = i;
      while (end < text.size() && !ends_token(text[end])) ++end;
      out += "[path]";
      i = std::max(trim_trailing_punctuation(text, i, end), i + 3);
      continue;
    }
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

namespace {

std::string redact(std::string_view text, const RedactionSecrets& secrets, bool tool_text) {
  std::string out = secret_paths(std::string(text), secrets);
  out = hostnames(out, secrets, tool_text);
  out = uri_authorities(out, tool_text);
  out = emails(out);
  out = uuids_and_macs(out);
  out = bare_hex_ids(out);
  out = ip_addresses(out);
  out = serials(out);
  out = disk_images(out);
  out = paths(out);
  return out;
}

}  // namespace

std::string redact_text(std::string_view text, const RedactionSecrets& secrets) { return redact(text, secrets, false); }

std::string redact_tool_text(std::string_view text, const RedactionSecrets& secrets) {
  return redact(text, secrets, true);
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

namespace {

// "0-3,8", "16", "^2", "0x1f": nothing in them can be a secret.
bool is_cpu_list_or_number(std::string_view value) {
  if (value.size() > 2 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X'))
    return value.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string_view::npos;
  return !value.empty() && value.find_first_not_of("0123456789,-^ ") == std::string_view::npos;
}

bool field_is(std::string_view field, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(), [&](std::string_view n) {
    return field.size() == n.size() && iequals_at(field, 0, n);
  });
}

}  // namespace

std::string redact_field(std::string_view field, std::string_view value, const RedactionSecrets& secrets) {
  if (value.empty() || is_cpu_list_or_number(value)) return std::string(value);
  if (field_is(field, {"serial", "serial_number", "serialnumber"})) return "[serial]";
  if (field_is(field, {"uuid"})) return "[uuid]";
  if (field_is(field, {"passwd", "password"})) return "[password]";
  std::string out = redact_text(value, secrets);
  // A host name the secrets do not know (a domain's <hostname>) is hidden too.
  if (field_is(field, {"hostname", "host_name"}) && out == value) return "[host]";
  return out;
}

namespace {

bool in_vocabulary(const Vocabulary& vocabulary, std::string_view field, std::string_view value) {
  auto it = vocabulary.find(field);
  return it != vocabulary.end() && it->second(value);
}

std::function<bool(std::string_view)> one_of(std::vector<std::string> words) {
  return [words = std::move(words)](std::string_view v) { return std::find(words.begin(), words.end(), v) != words.end(); };
}

// "10de": a PCI vendor or device id as the topology document writes it.
bool is_hex_id(std::string_view v) {
  return v.size() == 4 && v.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

void redact_json_value(nlohmann::json& value, std::string_view field, const RedactionSecrets& secrets,
                       const Vocabulary& vocabulary, const ToolTextFields& tool_text) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (in_vocabulary(vocabulary, field, text)) return;
    if (std::find(tool_text.begin(), tool_text.end(), field) != tool_text.end())
      value = redact_tool_text(text, secrets);
    else
      value = redact_field(field, text, secrets);
  } else if (value.is_object()) {
    for (auto& [key, child] : value.items()) redact_json_value(child, key, secrets, vocabulary, tool_text);
  } else if (value.is_array()) {
    // Elements belong to the array's field: "warnings": ["..."].
    for (auto& child : value) redact_json_value(child, field, secrets, vocabulary, tool_text);
  }
}

void redact_xml_node(pugi::xml_node node, const RedactionSecrets& secrets, const Vocabulary& vocabulary) {
  for (pugi::xml_attribute a : node.attributes())
    if (!in_vocabulary(vocabulary, a.name(), a.value())) a.set_value(redact_field(a.name(), a.value(), secrets).c_str());
  for (pugi::xml_node child : node.children()) {
    switch (child.type()) {
      case pugi::node_pcdata:
      case pugi::node_cdata:
      case pugi::node_comment:
        child.set_value(redact_field(node.name(), child.value(), secrets).c_str());
        break;
      case pugi::node_element:
        redact_xml_node(child, secrets, vocabulary);
        break;
      default:
        break;
    }
  }
}

}  // namespace

const Vocabulary& topology_vocabulary() {
  static const Vocabulary words = {
      {"schema", one_of({kTopologySchema})},
      {"kind", one_of({std::string(to_string(TopologySource::LiveHost)), std::string(to_string(TopologySource::HwlocXml)),
                       std::string(to_string(TopologySource::LscpuText))})},
      {"type", one_of({"data", "instruction", "unified"})},
      {"class", one_of({std::string(to_string(PciDevice::Class::Gpu)), std::string(to_string(PciDevice::Class::Nvme)),
                        std::string(to_string(PciDevice::Class::Network)), std::string(to_string(PciDevice::Class::Storage)),
                        std::string(to_string(PciDevice::Class::Accelerator)),
                        std::string(to_string(PciDevice::Class::Other))})},
      {"vendor_id", is_hex_id},
      {"device_id", is_hex_id}};
  return words;
}

const Vocabulary& plan_vocabulary() {
  static const Vocabulary words = {{"schema", one_of({kPlanSchema})}};
  return words;
}

const Vocabulary& results_vocabulary() {
  static const Vocabulary words = {
      {"schema", one_of({std::string(kBenchSchema)})},
      {"kind", one_of({std::string(to_string(ThreadKind::Vcpu)), std::string(to_string(ThreadKind::Emulator)),
                       std::string(to_string(ThreadKind::IoThread)), std::string(to_string(ThreadKind::Other))})}};
  return words;
}

// The libvirt words virt/domain.cpp reads: <cpu mode>, <cache mode>,
// <numatune><memory mode>, <feature policy name='topoext'>, <hostdev type='pci'>,
// memory units.
const Vocabulary& domain_xml_vocabulary() {
  static const Vocabulary words = {
      {"mode", one_of({"host-passthrough", "host-model", "maximum", "custom", "passthrough", "emulate", "disable",
                       "strict", "interleave", "preferred", "restrictive"})},
      {"policy", one_of({"require", "force", "optional", "disable", "forbid"})},
      {"name", one_of({"topoext"})},
      {"type", one_of({"kvm", "qemu", "test", "pci"})},
      {"unit", [](std::string_view v) { return is_memory_unit(v); }}};
  return words;
}

// The words findings_from_json reads: the schema, severities, fix kinds, and
// the ids of the check table (a host named "hpet" keeps "hpet-off" readable).
const Vocabulary& check_vocabulary() {
  static const Vocabulary words = [] {
    std::vector<std::string> ids;
    for (const CheckInfo& c : check_table()) ids.push_back(c.id);
    return Vocabulary{
        {"schema", one_of({kCheckSchema})},
        {"severity", one_of({std::string(to_string(Severity::Error)), std::string(to_string(Severity::Warning)),
                             std::string(to_string(Severity::Info))})},
        {"fix_kind", one_of({std::string(to_string(FixKind::None)), std::string(to_string(FixKind::DomainXml)),
                             std::string(to_string(FixKind::HostCommands))})},
        {"id", one_of(std::move(ids))}};
  }();
  return words;
}

void redact_json(nlohmann::json& doc, const RedactionSecrets& secrets, const Vocabulary& vocabulary,
                 const ToolTextFields& tool_text) {
  redact_json_value(doc, "", secrets, vocabulary, tool_text);
}

const ToolTextFields& plan_tool_text() {
  static const ToolTextFields fields = {"explanation", "warnings", "advice"};
  return fields;
}

const ToolTextFields& check_tool_text() {
  static const ToolTextFields fields = {"title", "why", "fix", "manual_reason", "skipped"};
  return fields;
}

const ToolTextFields& warnings_tool_text() {
  static const ToolTextFields fields = {"warnings"};
  return fields;
}

std::string redact_xml(std::string_view xml, const RedactionSecrets& secrets, const Vocabulary& vocabulary) {
  pugi::xml_document doc;
  const unsigned flags = pugi::parse_default | pugi::parse_comments | pugi::parse_declaration | pugi::parse_doctype |
                         pugi::parse_pi | pugi::parse_ws_pcdata;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), flags);
  if (!parsed) throw std::runtime_error(std::string("not well-formed XML: ") + parsed.description());
  redact_xml_node(doc, secrets, vocabulary);
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}

}  // namespace vpt
