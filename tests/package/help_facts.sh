# What CLI11's own --help formatter lists, to check the generated man pages and
# completions against (sourced by the package tests).

# Subcommand names under "Subcommands:" of `vpt-tune --help`, one a line.
help_subcommands() {
  "$1" --help | awk '/^Subcommands:/ { in_list = 1; next } /^[^ ]/ { in_list = 0 } in_list && NF { print $1 }'
}

# Option names (-h, --help, ...) of `vpt-tune [SUBCOMMAND] --help`, one a line.
help_options() {
  local program=$1
  shift
  "$program" "$@" --help | awk '/^  +-/ { print $1 }' | tr ',' '\n' | grep -v '^$'
}
