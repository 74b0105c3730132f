// Editing a domain definition's tree without disturbing what is around the
// change: new elements on lines of their own, indented as their neighbours,
// in the order libvirt writes them. Internal to virt/.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pugixml.hpp>

#include "virt/xml_save.hpp"

namespace vpt::detail {

// Sets an attribute, adding it last where the element lacks it.
void set_attr(pugi::xml_node node, const char* name, const std::string& value);
// Sets an attribute, adding it in front when `first` (libvirt writes it first), else last.
void ensure_attr(pugi::xml_node node, const char* name, const std::string& value, bool first = false);
// Appends an element with these attributes, in this order.
pugi::xml_node add(pugi::xml_node parent, const char* name,
                   std::initializer_list<std::pair<const char*, std::string>> attrs = {});
void add_text(pugi::xml_node node, const std::string& text);
// Sets the element's text, keeping the element itself (and its attributes) as they are.
void set_text(pugi::xml_node node, const std::string& text);
// <vcpupin>, <emulatorpin> or <iothreadpin>.
bool is_pin(pugi::xml_node node);
// The number an attribute holds; 0 where it holds none (the loader checked the document).
unsigned to_unsigned(const char* text);

class Editor {
 public:
  explicit Editor(Style style) : style_(std::move(style)) {}

  static unsigned depth(pugi::xml_node node) {
    unsigned d = 0;
    for (pugi::xml_node p = node.parent(); p && p.type() == pugi::node_element; p = p.parent()) ++d;
    return d;
  }

  std::string indent(unsigned depth) const {
    std::string s;
    for (unsigned i = 0; i < depth; ++i) s += style_.unit;
    return s;
  }

  // Lays out a freshly built element's children one per line, as the rest of the file.
  void reindent(pugi::xml_node node, unsigned depth) const {
    if (!style_.pretty) return;
    std::vector<pugi::xml_node> children;
    for (pugi::xml_node child : node.children())
      if (child.type() == pugi::node_element || child.type() == pugi::node_comment) children.push_back(child);
    if (children.empty()) return;
    for (pugi::xml_node child : children) {
      node.insert_child_before(pugi::node_pcdata, child).set_value((style_.nl + indent(depth + 1)).c_str());
      if (child.type() == pugi::node_element) reindent(child, depth + 1);
    }
    node.append_child(pugi::node_pcdata).set_value((style_.nl + indent(depth)).c_str());
  }

  // Copies `built` into `parent` right after `anchor` (null: as the first child),
  // on a line of its own.
  pugi::xml_node insert(pugi::xml_node parent, pugi::xml_node anchor, pugi::xml_node built) const {
    pugi::xml_node node;
    bool was_empty = !parent.first_child();
    if (anchor) node = parent.insert_copy_after(built, anchor);
    else if (parent.first_child()) node = parent.insert_copy_before(built, parent.first_child());
    else node = parent.append_copy(built);
    unsigned d = depth(node);
    if (style_.pretty) {
      parent.insert_child_before(pugi::node_pcdata, node).set_value((style_.nl + indent(d)).c_str());
      if (was_empty) parent.append_child(pugi::node_pcdata).set_value((style_.nl + indent(d - 1)).c_str());
    }
    reindent(node, d);
    return node;
  }

  // Removes an element with the line break and indentation in front of it.
  // Text in front that is not only layout (stray text in <cputune>) keeps its
  // words and loses just that line break, so patching twice adds nothing.
  static void remove(pugi::xml_node node) {
    pugi::xml_node parent = node.parent();
    pugi::xml_node before = node.previous_sibling();
    if (is_whitespace(before)) {
      parent.remove_child(before);
    } else if (before.type() == pugi::node_pcdata) {
      // Its last line break and the indentation after it, exactly what insert() adds.
      std::string_view text = before.value();
      std::size_t nl = text.rfind('\n');
      if (nl != std::string_view::npos && text.find_first_not_of(" \t", nl + 1) == std::string_view::npos) {
        if (nl > 0 && text[nl - 1] == '\r') --nl;
        before.set_value(std::string(text.substr(0, nl)).c_str());
      }
    }
    parent.remove_child(node);
  }

  // The node a new element goes after so that it stands where `node` stands
  // now: its previous sibling that is not layout whitespace (null = first).
  static pugi::xml_node anchor_before(pugi::xml_node node) {
    pugi::xml_node prev = node.previous_sibling();
    while (prev && is_whitespace(prev)) prev = prev.previous_sibling();
    return prev;
  }

  static pugi::xml_node last_non_whitespace(pugi::xml_node parent) {
    pugi::xml_node last = parent.last_child();
    while (last && is_whitespace(last)) last = last.previous_sibling();
    return last;
  }

  // Where an element named `name` goes among `parent`'s children, following
  // the order libvirt itself writes (`order`): after the last element that
  // comes before it, else before the first that comes after it, else last.
  static pugi::xml_node anchor_in_order(pugi::xml_node parent, std::string_view name,
                                        const std::vector<std::string_view>& order) {
    auto pos = std::find(order.begin(), order.end(), name);
    pugi::xml_node after, before;
    for (pugi::xml_node child : parent.children()) {
      if (child.type() != pugi::node_element) continue;
      auto at = std::find(order.begin(), order.end(), std::string_view(child.name()));
      if (at == order.end()) continue;
      if (at < pos) after = child;
      if (at > pos && !before) before = child;
    }
    if (after) return after;
    if (before) return anchor_before(before);
    return last_non_whitespace(parent);
  }

  pugi::xml_node insert_in_order(pugi::xml_node parent, pugi::xml_node built,
                                 const std::vector<std::string_view>& order) const {
    return insert(parent, anchor_in_order(parent, built.name(), order), built);
  }

 private:
  Style style_;
};

// The order of <domain>'s, <cputune>'s and <cpu>'s children in libvirt's own
// output (docs/formatdomain).
extern const std::vector<std::string_view> kDomainOrder;
extern const std::vector<std::string_view> kCputuneOrder;
extern const std::vector<std::string_view> kCpuOrder;

}  // namespace vpt::detail
