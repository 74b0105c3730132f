#include "cli/command_doc.hpp"

#include <algorithm>

#include <CLI/CLI.hpp>

namespace vpt::cli {

namespace {

bool starts_with_word(const std::string& text, std::string_view word) {
  return text.compare(0, word.size(), word) == 0 &&
         (text.size() == word.size() || text[word.size()] == '.' || text[word.size()] == '|');
}

// CLI11 describes an IsMember check as "{a,b,c}".
std::vector<std::string> set_members(const std::string& description) {
  std::vector<std::string> members;
  if (description.size() < 2 || description.front() != '{' || description.back() != '}') return members;
  std::string item;
  for (char c : description.substr(1, description.size() - 2)) {
    if (c == ',') {
      members.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  members.push_back(item);
  return members;
}

// What the shell should offer, from what the definition says about the value:
// an IsMember set, CLI11's ExistingFile/ExistingDirectory checks (described as FILE/DIR),
// a metavar FILE, FILE.ext, PATH or DIR, and the project's option names
// (--domain takes a libvirt domain, also when its metavar is NAME).
ValueKind kind_of(const OptionDoc& doc, const std::vector<std::string>& checks) {
  if (!doc.choices.empty()) return ValueKind::choice;
  auto has = [&](std::string_view name) {
    return std::find(checks.begin(), checks.end(), name) != checks.end();
  };
  if (std::find(doc.long_names.begin(), doc.long_names.end(), "domain") != doc.long_names.end() ||
      doc.metavar == "DOMAIN")
    return ValueKind::domain;
  if (has("DIR") || starts_with_word(doc.metavar, "DIR")) return ValueKind::directory;
  if (has("FILE") || has("PATH(existing)") || starts_with_word(doc.metavar, "FILE") ||
      starts_with_word(doc.metavar, "PATH"))
    return ValueKind::file;
  return ValueKind::text;
}

std::vector<std::string> names_of(const std::set<CLI::Option*>& options) {
  std::vector<std::string> names;
  for (const CLI::Option* o : options) {
    if (o->get_group().empty()) continue;
    names.push_back(!o->get_lnames().empty() ? "--" + o->get_lnames().front() : o->get_name());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// CLI11's type name without its checks ("INT:INT in [0 - 64]" -> "INT"), in words.
std::string metavar_for_type(const std::string& type_name) {
  const std::string type = type_name.substr(0, type_name.find(':'));
  if (type == "INT" || type == "UINT") return "N";
  if (type == "FLOAT") return "NUMBER";
  if (type.empty() || type == "TEXT") return "VALUE";
  return type;
}

// "INT in [0 - 64]" -> "0 to 64", CLI::NonNegativeNumber -> "0 or more"; other checks as
// CLI11 says them.
std::string constraint_in_words(const std::string& constraint) {
  if (constraint == "NONNEGATIVE") return "0 or more";
  if (constraint == "POSITIVE") return "more than 0";
  const auto open = constraint.find(" in [");
  const auto dash = constraint.find(" - ", open == std::string::npos ? 0 : open);
  if (open == std::string::npos || dash == std::string::npos || constraint.back() != ']') return constraint;
  const std::string low = constraint.substr(open + 5, dash - open - 5);
  const std::string high = constraint.substr(dash + 3, constraint.size() - dash - 4);
  return low + " to " + high;
}

}  // namespace

OptionDoc describe_option(CLI::Option& option) {
  OptionDoc doc;
  doc.short_names = option.get_snames();
  doc.long_names = option.get_lnames();
  if (option.get_positional() && doc.short_names.empty() && doc.long_names.empty())
    doc.positional_name = option.get_name(true);
  doc.description = option.get_description();
  doc.group = option.get_group();
  doc.required = option.get_required();
  doc.needs = names_of(option.get_needs());
  doc.excludes = names_of(option.get_excludes());
  if (option.get_items_expected_max() == 0) return doc;  // a flag

  doc.metavar = option.get_option_text();
  if (doc.metavar.empty() && !doc.positional_name.empty()) {
    doc.metavar = doc.positional_name;
  } else if (doc.metavar.empty()) {
    // get_type_name() appends each check's description after ':' ("INT:INT in [0 - 64]").
    const std::string type = option.get_type_name();
    doc.metavar = metavar_for_type(type);
  }
  doc.default_value = option.get_default_str();
  doc.repeatable = option.get_items_expected_max() > 1 || option.get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;

  std::vector<std::string> checks;  // each check's description
  for (int i = 0;; ++i) {
    CLI::Validator* validator = nullptr;
    try {
      validator = option.get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      break;
    }
    const std::string description = validator->get_description();
    checks.push_back(description);
    if (auto members = set_members(description); !members.empty()) {
      doc.choices = std::move(members);
    } else if (!description.empty() && description != "FILE" && description != "DIR" &&
               description != "PATH(existing)") {
      doc.constraints.push_back(constraint_in_words(description));
    }
  }
  if (!doc.choices.empty() && option.get_option_text().empty()) {
    doc.metavar.clear();
    for (const std::string& choice : doc.choices) doc.metavar += (doc.metavar.empty() ? "" : "|") + choice;
  }
  if (const auto dot = doc.metavar.find('.'); starts_with_word(doc.metavar, "FILE") && dot != std::string::npos)
    doc.file_extension = doc.metavar.substr(dot + 1);
  doc.kind = kind_of(doc, checks);
  return doc;
}

std::string help_notes(const OptionDoc& doc) {
  std::vector<std::string> notes;
  for (const std::string& constraint : doc.constraints) notes.push_back(constraint);
  if (!doc.default_value.empty()) notes.push_back("default: " + doc.default_value);
  if (doc.required) notes.push_back("required");
  std::string needs, excludes;
  for (const std::string& name : doc.needs) needs += (needs.empty() ? "" : ", ") + name;
  for (const std::string& name : doc.excludes) excludes += (excludes.empty() ? "" : ", ") + name;
  if (!needs.empty()) notes.push_back("needs " + needs);
  if (!excludes.empty()) notes.push_back("not with " + excludes);
  std::string out;
  for (const std::string& note : notes) out += (out.empty() ? "" : "; ") + note;
  return out;
}

namespace {

CommandDoc describe(CLI::App& app, std::vector<std::string> path) {
  CommandDoc doc;
  doc.path = std::move(path);
  doc.description = app.get_description();
  doc.footer = app.get_footer();
  for (CLI::Option* option : app.get_options()) {
    if (option->get_group().empty()) continue;  // hidden
    OptionDoc option_doc = describe_option(*option);
    (option_doc.positional_name.empty() ? doc.options : doc.positionals).push_back(std::move(option_doc));
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App* s) { return !s->get_group().empty(); })) {
    std::vector<std::string> sub_path = doc.path;
    sub_path.push_back(sub->get_name());
    doc.subcommands.push_back(describe(*sub, std::move(sub_path)));
  }
  return doc;
}

}  // namespace

std::string OptionDoc::display_name() const {
  if (!long_names.empty()) return "--" + long_names.front();
  if (!short_names.empty()) return "-" + short_names.front();
  return positional_name;
}

std::string CommandDoc::invocation() const {
  std::string out;
  for (const auto& part : path) out += (out.empty() ? "" : " ") + part;
  return out;
}

CommandDoc describe_command(CLI::App& app, const std::string& program) { return describe(app, {program}); }

}  // namespace vpt::cli
