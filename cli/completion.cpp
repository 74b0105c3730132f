#include "cli/completion.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "common/text.hpp"

namespace vpt::cli {

namespace {

// 'text' for the shell, whatever text holds.
std::string sh_quote(const std::string& text) { return shell_quote(text); }

std::string words(const std::vector<std::string>& items) { return fmt::format("{}", fmt::join(items, " ")); }

std::vector<std::string> option_words(const OptionDoc& option) {
  std::vector<std::string> names;
  for (const auto& s : option.short_names) names.push_back("-" + s);
  for (const auto& l : option.long_names) names.push_back("--" + l);
  return names;
}

// The kind of a value as the bash script's helpers spell it.
std::string bash_value(const OptionDoc& option) {
  switch (option.kind) {
    case ValueKind::none: return "none";
    case ValueKind::text: return "text";
    case ValueKind::choice: return "choice:" + words(option.choices);
    case ValueKind::file: return option.file_extension.empty() ? "file" : "file:" + option.file_extension;
    case ValueKind::directory: return "dir";
    case ValueKind::domain: return "domain";
  }
  return "text";
}

// The sub-path of a command below the root: "" for the root, "probe", "a b".
std::string sub_path(const CommandDoc& command) {
  std::string out;
  for (std::size_t i = 1; i < command.path.size(); ++i) out += (out.empty() ? "" : " ") + command.path[i];
  return out;
}

void for_each_command(const CommandDoc& command, const std::function<void(const CommandDoc&)>& visit) {
  visit(command);
  for (const auto& sub : command.subcommands) for_each_command(sub, visit);
}

// Names of the options that set the libvirt URI (--connect), for `virsh -c`.
std::vector<std::string> connect_option_names(const CommandDoc& root) {
  std::vector<std::string> names;
  for_each_command(root, [&](const CommandDoc& command) {
    for (const auto& o : command.options)
      if (std::find(o.long_names.begin(), o.long_names.end(), "connect") != o.long_names.end())
        for (const auto& n : option_words(o))
          if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  });
  return names;
}

// ---- zsh ----

// Text inside an _arguments spec: [description] and :message: parts.
std::string zsh_spec_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '[' || c == ']' || c == ':') out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_function_name(const CommandDoc& command) {
  std::string name = "_" + command.path.front();
  for (std::size_t i = 1; i < command.path.size(); ++i) name += "_" + command.path[i];
  return name;
}

std::string zsh_action(const OptionDoc& option) {
  switch (option.kind) {
    case ValueKind::choice: {
      std::string list;
      for (const auto& c : option.choices) list += (list.empty() ? "" : " ") + zsh_spec_text(c);
      return "(" + list + ")";
    }
    case ValueKind::file:
      return option.file_extension.empty() ? "_files" : "_files -g \"*." + option.file_extension + "(-.)\"";
    case ValueKind::directory: return "_files -/";
    case ValueKind::domain: return "_vpt_tune_zsh_domains";
    case ValueKind::none:
    case ValueKind::text: break;
  }
  return " ";
}

std::string zsh_option_spec(const OptionDoc& option) {
  const auto names = option_words(option);
  std::string exclusions;
  for (const auto& e : option.excludes) exclusions += (exclusions.empty() ? "" : " ") + e;
  if (names.size() > 1) {
    for (const auto& n : names) exclusions += (exclusions.empty() ? "" : " ") + n;
  }
  const bool takes_value = option.kind != ValueKind::none;
  std::string spec;
  if (option.long_names == std::vector<std::string>{"help"}) exclusions = "- *";
  if (!exclusions.empty() && !option.repeatable) spec += "(" + exclusions + ")";
  if (option.repeatable) spec += "*";
  const std::string description = "[" + zsh_spec_text(option.description) + "]";
  const std::string value =
      takes_value ? ":" + zsh_spec_text(option.metavar.empty() ? "value" : option.metavar) + ":" + zsh_action(option) : "";
  if (names.size() == 1) {
    const std::string& n = names.front();
    const std::string suffix = !takes_value ? "" : n.size() == 2 ? "+" : "=";
    return sh_quote(spec + n + suffix + description + value);
  }
  // (-d --domain){-d+,--domain=}'[...]:NAME:action'
  std::string braces;
  for (const auto& n : names)
    braces += (braces.empty() ? "" : ",") + n + (!takes_value ? "" : n.size() == 2 ? "+" : "=");
  return sh_quote(spec) + "{" + braces + "}" + sh_quote(description + value);
}

void write_zsh_function(std::ostream& out, const CommandDoc& command) {
  fmt::print(out, "{}() {{\n", zsh_function_name(command));
  const bool has_subcommands = !command.subcommands.empty();
  if (has_subcommands) out << "  local curcontext=$curcontext state line\n  typeset -A opt_args\n";
  out << "  _arguments -s -S" << (has_subcommands ? " -C" : "") << " \\\n";
  for (const auto& o : command.options) out << "    " << zsh_option_spec(o) << " \\\n";
  if (has_subcommands) {
    out << "    ': :->command' \\\n    '*:: :->argument'\n";
    out << "  case $state in\n    (command)\n      local -a commands=(\n";
    for (const auto& sub : command.subcommands)
      out << "        " << sh_quote(zsh_spec_text(sub.name()) + ":" + sub.description) << "\n";
    fmt::print(out, "      )\n      _describe -t commands {} commands ;;\n", sh_quote(command.invocation() + " command"));
    out << "    (argument)\n      curcontext=${curcontext%:*:*}:" << command.path.front() << "-$words[1]:\n";
    out << "      case $words[1] in\n";
    for (const auto& sub : command.subcommands)
      fmt::print(out, "        ({}) {} ;;\n", sub.name(), zsh_function_name(sub));
    out << "      esac ;;\n  esac\n}\n\n";
    for (const auto& sub : command.subcommands) write_zsh_function(out, sub);
    return;
  }
  for (const auto& p : command.positionals) {
    const std::string message = zsh_spec_text(p.metavar);
    out << "    " << sh_quote(std::string(p.repeatable ? "*" : "") + ":" + message + ":" + zsh_action(p)) << " \\\n";
  }
  out << "    && return 0\n}\n\n";
}

}  // namespace

void write_bash_completion(std::ostream& out, const CommandDoc& root) {
  const std::string program = root.name();
  fmt::print(out,
             "# bash completion for {0}                                 -*- shell-script -*-\n"
             "# Generated by `{0} generate-docs` from the program's option definitions; do not edit.\n\n",
             program);

  out << "# Subcommands of a command path (\"\" is the program itself).\n_vpt_tune_subcommands() {\n    case $1 in\n";
  for_each_command(root, [&](const CommandDoc& c) {
    if (c.subcommands.empty()) return;
    std::vector<std::string> names;
    for (const auto& s : c.subcommands) names.push_back(s.name());
    fmt::print(out, "        {}) echo {} ;;\n", sh_quote(sub_path(c)), sh_quote(words(names)));
  });
  out << "    esac\n}\n\n";

  out << "# Options of a command path.\n_vpt_tune_options() {\n    case $1 in\n";
  for_each_command(root, [&](const CommandDoc& c) {
    std::vector<std::string> names;
    for (const auto& o : c.options)
      for (const auto& n : option_words(o)) names.push_back(n);
    fmt::print(out, "        {}) echo {} ;;\n", sh_quote(sub_path(c)), sh_quote(words(names)));
  });
  out << "    esac\n}\n\n";

  out << "# What an option of a command path takes: none (a flag), text, file, file:EXT, dir,\n"
         "# domain or choice:WORDS.\n_vpt_tune_value() {\n    case \"$1 $2\" in\n";
  for_each_command(root, [&](const CommandDoc& c) {
    for (const auto& o : c.options) {
      if (o.kind == ValueKind::none) continue;
      std::string patterns;
      for (const auto& n : option_words(o)) patterns += (patterns.empty() ? "" : " | ") + sh_quote(sub_path(c) + " " + n);
      fmt::print(out, "        {}) echo {} ;;\n", patterns, sh_quote(bash_value(o)));
    }
  });
  out << "        *) echo none ;;\n    esac\n}\n\n";

  out << "# What positional arguments of a command path take (none when it has none).\n"
         "_vpt_tune_positional() {\n    case $1 in\n";
  for_each_command(root, [&](const CommandDoc& c) {
    if (c.positionals.empty()) return;
    const OptionDoc& p = c.positionals.front();
    fmt::print(out, "        {}) echo {} ;;\n", sh_quote(sub_path(c)), sh_quote(p.kind == ValueKind::text ? "file" : bash_value(p)));
  });
  out << "        *) echo none ;;\n    esac\n}\n\n";

  std::string connect_patterns, connect_assign;
  for (const auto& n : connect_option_names(root)) {
    connect_patterns += (connect_patterns.empty() ? "" : " | ") + n;
    connect_assign += fmt::format("            {}=*) uri=${{words[i]#{}=}} ;;\n", n, n);
  }
  out << "# Domain names from virsh, on the connection the command line names.\n_vpt_tune_domains() {\n"
         "    local uri=\"\" i\n";
  if (!connect_patterns.empty()) {
    out << "    for ((i = 1; i < cword; i++)); do\n        case ${words[i]} in\n";
    fmt::print(out, "            {}) uri=${{words[i + 1]}} ;;\n", connect_patterns);
    out << connect_assign << "        esac\n    done\n";
  }
  out << "    local IFS=$'\\n'\n"
         "    COMPREPLY=($(compgen -W \"$(virsh ${uri:+-c \"$uri\"} list --all --name 2>/dev/null)\" -- \"$cur\"))\n"
         "}\n\n";

  out << R"sh(_vpt_tune_complete_value() {
    case $1 in
        file) _filedir ;;
        file:*) _filedir "${1#file:}" ;;
        dir) _filedir -d ;;
        domain) _vpt_tune_domains ;;
        choice:*) COMPREPLY=($(compgen -W "${1#choice:}" -- "$cur")) ;;
        *) COMPREPLY=() ;;
    esac
}

_vpt_tune() {
    local cur prev words cword split
    _init_completion -s -n : || return

    # The subcommand path so far; options' values are skipped.
    local path="" i word kind
    for ((i = 1; i < cword; i++)); do
        word=${words[i]}
        if [[ $word == -* ]]; then
            [[ $word == *=* ]] && continue
            kind=$(_vpt_tune_value "$path" "$word")
            [[ $kind != none ]] && ((i++))
        elif [[ " $(_vpt_tune_subcommands "$path") " == *" $word "* ]]; then
            path=${path:+$path }$word
        fi
    done

    kind=$(_vpt_tune_value "$path" "$prev")
    if [[ $prev == -* && $kind != none ]]; then
        _vpt_tune_complete_value "$kind"
        return
    fi
    $split && return
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_vpt_tune_options "$path")" -- "$cur"))
        return
    fi
    local subcommands
    subcommands=$(_vpt_tune_subcommands "$path")
    if [[ -n $subcommands ]]; then
        COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
        return
    fi
    kind=$(_vpt_tune_positional "$path")
    if [[ $kind != none ]]; then
        _vpt_tune_complete_value "$kind"
        return
    fi
    COMPREPLY=($(compgen -W "$(_vpt_tune_options "$path")" -- "$cur"))
}
)sh";
  fmt::print(out, "complete -F _vpt_tune {}\n", program);
}

void write_zsh_completion(std::ostream& out, const CommandDoc& root) {
  fmt::print(out,
             "#compdef {0}\n"
             "# zsh completion for {0}. Generated by `{0} generate-docs` from the program's option\n"
             "# definitions; do not edit.\n\n",
             root.name());
  out << "# Domain names from virsh, on the connection the command line names.\n"
         "_vpt_tune_zsh_domains() {\n  local -a domains uri\n  local i\n"
         "  for (( i = 2; i < CURRENT; i++ )); do\n    case $words[i] in\n";
  const auto connect = connect_option_names(root);
  if (!connect.empty()) {
    std::string patterns;
    for (const auto& n : connect) patterns += (patterns.empty() ? "" : "|") + n;
    fmt::print(out, "      ({}) uri=(-c $words[i+1]) ;;\n", patterns);
    for (const auto& n : connect)
      if (n.size() > 2) fmt::print(out, "      ({0}=*) uri=(-c ${{words[i]#{0}=}}) ;;\n", n);
  }
  out << "    esac\n  done\n"
         "  domains=(${(f)\"$(_call_program domains virsh $uri list --all --name 2>/dev/null)\"})\n"
         "  _describe -t domains 'libvirt domain' domains\n}\n\n";
  write_zsh_function(out, root);
  fmt::print(out, "{}\n", zsh_function_name(root) + " \"$@\"");
}

}  // namespace vpt::cli
