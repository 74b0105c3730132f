#include "cli/man_page.hpp"

#include <cctype>
#include <string_view>

#include <fmt/format.h>

namespace vpt::cli {

namespace {

// Decodes one UTF-8 sequence at text[i]; returns the code point and advances i.
// Invalid bytes come back as U+FFFD so that nothing raw reaches groff.
char32_t next_code_point(std::string_view text, std::size_t& i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  const int length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > text.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = length == 1 ? byte : byte & (0x7F >> length);
  for (int k = 1; k < length; ++k) {
    const auto continuation = static_cast<unsigned char>(text[i + k]);
    if ((continuation >> 6) != 0x2) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (continuation & 0x3F);
  }
  i += length;
  return cp;
}

// Escapes one run of text. In `literal` runs (option names, commands) every
// '-' is a minus sign, so that copying from the page gives ASCII dashes; in
// prose only words that start with '-' (option names) get that treatment.
std::string escape(std::string_view text, bool literal) {
  std::string out;
  bool in_dash_word = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      out += fmt::format("\\[u{:04X}]", static_cast<std::uint32_t>(next_code_point(text, i)));
      in_dash_word = false;
      continue;
    }
    const bool word_start = i == 0 || std::isspace(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '(' ||
                            text[i - 1] == '[' || text[i - 1] == '|' || text[i - 1] == ',';
    if (std::isspace(static_cast<unsigned char>(c))) in_dash_word = false;
    if (c == '-' && word_start) in_dash_word = true;
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-' && (literal || in_dash_word)) {
      out += "\\-";
    } else {
      out += c;
    }
    ++i;
  }
  return out;
}

std::string literal(std::string_view text) { return escape(text, true); }
std::string bold(std::string_view text) { return "\\fB" + literal(text) + "\\fR"; }
std::string italic(std::string_view text) { return "\\fI" + literal(text) + "\\fR"; }

// A line of output text: roff takes a leading '.' or '\'' as a request.
void text_line(std::ostream& out, const std::string& line) {
  if (!line.empty() && (line.front() == '.' || line.front() == '\'')) out << "\\&";
  out << line << '\n';
}

std::string sentence(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (!text.empty() && text.back() != '.' && text.back() != '!' && text.back() != '?' && text.back() != ':') text += '.';
  return text;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// The footer under --help, read as: prose (part of the description), and
// sections that start with a short heading line ending in ':' ("Examples:")
// whose indented lines are "term   explanation" entries.
struct FooterSection {
  std::string heading;
  std::vector<std::pair<std::string, std::string>> entries;
};
struct Footer {
  std::vector<std::string> paragraphs;
  std::vector<FooterSection> sections;
};

bool is_heading(const std::string& line) {
  if (line.empty() || line.back() != ':' || std::isspace(static_cast<unsigned char>(line.front()))) return false;
  int words = 1;
  for (char c : line) words += c == ' ';
  return words <= 3;
}

Footer parse_footer(const std::string& footer) {
  Footer parsed;
  bool continue_paragraph = false;
  std::size_t start = 0;
  while (start <= footer.size()) {
    auto end = footer.find('\n', start);
    if (end == std::string::npos) end = footer.size();
    const std::string line = footer.substr(start, end - start);
    start = end + 1;
    if (trim(line).empty()) {
      continue_paragraph = false;
    } else if (is_heading(line)) {
      parsed.sections.push_back({line.substr(0, line.size() - 1), {}});
      continue_paragraph = false;
    } else if (std::isspace(static_cast<unsigned char>(line.front()))) {
      if (parsed.sections.empty()) parsed.sections.push_back({"Details", {}});
      const std::string entry = trim(line);
      const auto gap = entry.find("  ");
      if (gap == std::string::npos) {
        parsed.sections.back().entries.emplace_back(entry, "");
      } else {
        parsed.sections.back().entries.emplace_back(trim(entry.substr(0, gap)), trim(entry.substr(gap)));
      }
      continue_paragraph = false;
    } else if (continue_paragraph) {
      parsed.paragraphs.back() += ' ' + trim(line);
    } else {
      parsed.paragraphs.push_back(trim(line));
      continue_paragraph = true;
    }
    if (end == footer.size()) break;
  }
  return parsed;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// "--topology FILE.xml" / "-d, --domain NAME" in roff.
std::string option_label(const OptionDoc& option) {
  std::string label;
  for (const auto& s : option.short_names) label += (label.empty() ? "" : ", ") + bold("-" + s);
  for (const auto& l : option.long_names) label += (label.empty() ? "" : ", ") + bold("--" + l);
  if (!option.metavar.empty()) label += " " + italic(option.metavar);
  return label;
}

std::string option_usage(const OptionDoc& option) {
  std::string usage = bold(option.display_name());
  if (!option.metavar.empty()) usage += " " + italic(option.metavar);
  return usage;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  return fmt::format("{}", fmt::join(items, separator));
}

// The sentences after an option's description: what --help shows beside it.
std::vector<std::string> option_notes(const OptionDoc& option) {
  std::vector<std::string> notes;
  if (option.required) notes.push_back("Required.");
  if (!option.choices.empty()) {
    std::vector<std::string> choices;
    for (const auto& c : option.choices) choices.push_back(bold(c));
    notes.push_back("One of: " + join(choices, ", ") + ".");
  }
  for (const auto& c : option.constraints) notes.push_back("From " + roff_text(c) + ".");
  if (!option.default_value.empty()) notes.push_back("Default: " + bold(option.default_value) + ".");
  if (option.repeatable && option.positional_name.empty()) notes.push_back("May be given more than once.");
  if (!option.needs.empty()) {
    std::vector<std::string> names;
    for (const auto& n : option.needs) names.push_back(bold(n));
    notes.push_back("Needs " + join(names, ", ") + ".");
  }
  if (!option.excludes.empty()) {
    std::vector<std::string> names;
    for (const auto& n : option.excludes) names.push_back(bold(n));
    notes.push_back("Cannot be combined with " + join(names, ", ") + ".");
  }
  return notes;
}

void write_option(std::ostream& out, const OptionDoc& option) {
  out << ".TP\n";
  text_line(out, option.positional_name.empty() ? option_label(option) : italic(option.metavar));
  text_line(out, roff_text(sentence(option.description)));
  for (const auto& note : option_notes(option)) text_line(out, note);
}

void write_options(std::ostream& out, const std::vector<OptionDoc>& options) {
  // Groups in order of first appearance, as --help lists them.
  std::vector<std::string> groups;
  for (const auto& o : options)
    if (std::find(groups.begin(), groups.end(), o.group) == groups.end()) groups.push_back(o.group);
  out << ".SH OPTIONS\n";
  for (const auto& group : groups) {
    if (group != "Options") {
      std::string title = group;
      std::erase(title, '"');
      out << ".SS \"" << literal(title) << "\"\n";
    }
    for (const auto& o : options)
      if (o.group == group) write_option(out, o);
  }
}

// `vpt-tune [--config FILE] probe --domain NAME [OPTIONS] [BACKUP]`
std::string synopsis(const CommandDoc& command, const CommandDoc& root) {
  // Built with fmt: GCC 12 warns wrongly (-Wrestrict) on "literal" + std::string&&.
  std::string line = bold(root.name());
  if (&command == &root)
    return fmt::format("{} [{}] {} [{}]", line, italic("OPTIONS"), italic("COMMAND"), italic("COMMAND-OPTIONS"));
  for (const auto& o : root.options)
    if (o.kind != ValueKind::none) line += fmt::format(" [{}]", option_usage(o));
  for (std::size_t i = 1; i < command.path.size(); ++i) line += fmt::format(" {}", bold(command.path[i]));
  for (const auto& o : command.options)
    if (o.required) line += fmt::format(" {}", option_usage(o));
  line += fmt::format(" [{}]", italic("OPTIONS"));
  if (!command.subcommands.empty()) line += fmt::format(" {}", italic("COMMAND"));
  for (const auto& p : command.positionals) {
    const std::string arg = italic(p.metavar) + (p.repeatable ? "..." : "");
    line += p.required ? fmt::format(" {}", arg) : fmt::format(" [{}]", arg);
  }
  return line;
}

std::string name_line_description(const CommandDoc& command) {
  std::string text = command.description;
  // The root's description reads "vpt-tune: what it does".
  if (const std::string prefix = command.name() + ": "; text.rfind(prefix, 0) == 0) text.erase(0, prefix.size());
  if (text.size() > 1 && std::isupper(static_cast<unsigned char>(text[0])) && std::islower(static_cast<unsigned char>(text[1])))
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  while (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

std::string page_reference(const std::string& page) { return bold(page) + "(1)"; }

}  // namespace

std::string roff_text(const std::string& text) {
  // `code` spans become bold literals; the rest is prose.
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find('`', pos);
    const auto close = open == std::string::npos ? std::string::npos : text.find('`', open + 1);
    if (close == std::string::npos) {
      out += escape(std::string_view(text).substr(pos), false);
      break;
    }
    out += escape(std::string_view(text).substr(pos, open - pos), false);
    out += bold(std::string_view(text).substr(open + 1, close - open - 1));
    pos = close + 1;
  }
  return out;
}

std::string man_page_name(const CommandDoc& command) { return join(command.path, "-"); }

void write_man_page(std::ostream& out, const CommandDoc& command, const CommandDoc& root, const ManPageInfo& info) {
  const Footer footer = parse_footer(command.footer);
  const std::string name = man_page_name(command);
  out << ".\\\" Generated by `vpt-tune generate-docs` from the program's option definitions; do not edit.\n";
  out << ".TH \"" << upper(name) << "\" \"1\" \"" << info.date << "\" \"" << info.source << "\" \"User Commands\"\n";
  out << ".SH NAME\n";
  text_line(out, literal(name) + " \\- " + roff_text(name_line_description(command)));
  out << ".SH SYNOPSIS\n";
  text_line(out, synopsis(command, root));
  out << ".SH DESCRIPTION\n";
  std::string description = command.description;
  if (const std::string prefix = command.name() + ": "; description.rfind(prefix, 0) == 0) {
    description.erase(0, prefix.size());
    if (!description.empty()) description[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(description[0])));
  }
  text_line(out, roff_text(sentence(description)));
  for (const auto& paragraph : footer.paragraphs) {
    out << ".PP\n";
    text_line(out, roff_text(paragraph));
  }
  if (&command != &root) {
    std::vector<std::string> global;
    for (const auto& o : root.options)
      if (o.kind != ValueKind::none) global.push_back(bold(o.display_name()));
    out << ".PP\n";
    text_line(out, global.empty() ? "See " + page_reference(root.name()) + " for the exit status."
                                  : "Global options (" + join(global, ", ") + ") go before " + bold(command.name()) +
                                        "; " + page_reference(root.name()) + " describes them and the exit status.");
  }
  if (!command.subcommands.empty()) {
    out << ".SH COMMANDS\n";
    for (const auto& sub : command.subcommands) {
      out << ".TP\n";
      text_line(out, bold(sub.name()));
      text_line(out, roff_text(sentence(sub.description)) + " See " + page_reference(man_page_name(sub)) + ".");
    }
  }
  if (!command.positionals.empty()) {
    out << ".SH ARGUMENTS\n";
    for (const auto& p : command.positionals) write_option(out, p);
  }
  if (!command.options.empty()) write_options(out, command.options);
  for (const auto& section : footer.sections) {
    out << ".SH " << upper(literal(section.heading)) << '\n';
    const bool commands = section.heading == "Examples";
    for (const auto& [term, text] : section.entries) {
      out << ".TP\n";
      text_line(out, commands ? bold(term) : roff_text(term));
      text_line(out, text.empty() ? "\\&" : roff_text(text));
    }
  }
  out << ".SH SEE ALSO\n";
  std::vector<std::string> refs;
  if (&command != &root) {
    for (std::size_t depth = 1; depth < command.path.size(); ++depth)
      refs.push_back(page_reference(join({command.path.begin(), command.path.begin() + static_cast<long>(depth)}, "-")));
  } else {
    for (const auto& sub : command.subcommands) refs.push_back(page_reference(man_page_name(sub)));
  }
  for (const auto& page : info.see_also) {
    const auto paren = page.find('(');
    refs.push_back(paren == std::string::npos ? bold(page) : bold(page.substr(0, paren)) + literal(page.substr(paren)));
  }
  text_line(out, join(refs, ", "));
}

}  // namespace vpt::cli
