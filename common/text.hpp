// Small text helpers every module uses, so each exists once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vpt {

// ASCII lowercase (locale-independent): for keywords, units and hex digits.
std::string lowercase(std::string_view text);

// A C0 control character (ESC, BEL, newline, tab, ...) or DEL.
inline bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// Text from outside (a guest, a config, a name) made safe to print: control
// characters (ESC, newline, ...) become '?', and more than `max_bytes` is cut
// with "...", so it can neither reach a terminal raw nor flood it.
std::string printable(std::string_view text, std::size_t max_bytes = 200);

// `text` in single quotes as a POSIX shell reads it back ("it's" -> 'it'\''s').
std::string shell_quote(std::string_view text);

// "1 core", "3 cores", "0 cores".
std::string plural(std::size_t n, std::string_view one, std::string_view many);

// The lines of `text`, each with its '\n' (the last one may lack it): joined
// again they are `text` byte for byte.
std::vector<std::string_view> split_lines(std::string_view text);

}  // namespace vpt
