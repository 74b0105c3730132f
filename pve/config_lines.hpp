// The line grammar of a Proxmox VM config, shared by the parser and the
// patcher (internal to pve/). Follows qemu-server's parse_vm_config()
// (src/PVE/QemuServer.pm), quoted in docs/proxmox-notes.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vpt {

struct ConfigLine {
  enum class Kind {
    Blank,    // only white space
    Comment,  // '#...': the description
    Option,   // "key: value"
    Section,  // "[name]": key holds the name
    Invalid,  // anything else (key set when it was "key:" without a value)
  };
  Kind kind = Kind::Invalid;
  std::string_view text;     // the line without its '\n'
  std::string_view key;      // option key or section name
  std::string_view value;    // option value, trailing white space trimmed
  bool newline = true;       // ended with '\n' (false only for a last line without one)
};

// Every line of `text`, in order; a final "" after a trailing '\n' is not a line.
std::vector<ConfigLine> split_config_lines(std::string_view text);

// A property string "default,key=value,key2=value2": the first item without
// '=' belongs to `default_key`.
using PropertyString = std::map<std::string, std::string>;
PropertyString parse_property_string(std::string_view value, const std::string& default_key);

// PVE's boolean: 1/on/yes/true, 0/off/no/false, any case; nullopt otherwise.
std::optional<bool> parse_pve_bool(std::string_view value);

}  // namespace vpt
