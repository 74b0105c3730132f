// The topology picture: draws the boxes layout_topology() placed.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "report/escape.hpp"
#include "report/svg.hpp"

namespace vpt::report_detail {

namespace {

// Cuts a label to what fits in `width` pixels (the layout makes boxes wide
// enough for their labels; this only guards rounding).
std::string fit(const std::string& text, double width, double font, double char_width) {
  std::size_t max_glyphs = static_cast<std::size_t>(std::max(1.0, width / (font * char_width)));
  std::size_t glyphs = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (++glyphs > max_glyphs) return text.substr(0, i > 3 ? i - 1 : i) + "…";
  }
  return text;
}

}  // namespace

void write_topology_svg(std::ostream& out, const TopologyPicture& layout) {
  const double margin = 2;
  const double font = layout.font_size;
  // Small machines are drawn larger, up to 1.5 times, so that the picture
  // fills most of the page; big ones stay at 1:1 and scroll on a phone.
  const double zoom = std::clamp(880.0 / std::max(layout.width, 1.0), 1.0, 1.5);
  fmt::print(out,
             "<svg class=\"topology\" viewBox=\"{} {} {:.0f} {:.0f}\" "
             "width=\"{:.0f}\" height=\"{:.0f}\" role=\"img\" aria-labelledby=\"topology-title\" "
             "style=\"min-width:{:.0f}px\">\n"
             "<title id=\"topology-title\">Host CPUs by role: {} logical CPUs</title>\n",
             -margin, -margin, layout.width + 2 * margin, layout.height + 2 * margin, (layout.width + 2 * margin) * zoom,
             (layout.height + 2 * margin) * zoom, std::min(layout.width * zoom, 640.0) * 0.75, layout.cpus.size());
  for (const LayoutBox& box : layout.boxes) {
    if (box.kind == BoxKind::Cpu && box.cpu) {
      const CpuUse& use = layout.cpus[*box.cpu];
      std::string classes = fmt::format("cpu role-{}", to_string(use.role));
      std::string data = fmt::format(" data-cpu=\"{}\" data-role=\"{}\"", use.os_index, to_string(use.role));
      if (use.guest) {
        classes += fmt::format(" guest-{}", *use.guest % 6);
        data += fmt::format(" data-guest=\"{}\"", *use.guest);
      }
      if (use.vcpu) data += fmt::format(" data-vcpu=\"{}\"", *use.vcpu);
      if (use.iothread) data += fmt::format(" data-iothread=\"{}\"", *use.iothread);
      if (use.host && use.role != CpuRole::Host) classes += " on-host";
      double cx = box.x + box.width / 2;
      fmt::print(out,
                 "<g class=\"{}\"{}><title>{}</title><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                 "rx=\"3\"/><text class=\"cpu-num\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>",
                 classes, data, html_escape(box.detail), box.x, box.y, box.width, box.height, cx,
                 box.y + (box.sublabel.empty() ? box.height / 2 + font * 0.35 : box.height * 0.42), html_escape(box.label));
      if (!box.sublabel.empty())
        fmt::print(out, "<text class=\"cpu-role\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", cx, box.y + box.height * 0.82,
                   html_escape(box.sublabel));
      out << "</g>\n";
      continue;
    }
    fmt::print(out,
               "<g class=\"box box-{} depth-{}\"><title>{}</title><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
               "height=\"{:.1f}\" rx=\"4\"/>",
               to_string(box.kind), std::min(box.depth, 5u), html_escape(box.detail), box.x, box.y, box.width,
               box.height);
    if (!box.label.empty())
      fmt::print(out, "<text class=\"box-label\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", box.x + 5, box.y + 12,
                 html_escape(fit(box.label, box.width - 8, font, 0.6)));
    out << "</g>\n";
  }
  out << "</svg>\n";
}

}  // namespace vpt::report_detail
