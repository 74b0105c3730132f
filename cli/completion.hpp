// Shell completion scripts for the command line, written from CommandDoc
// (cli/command_doc.hpp): subcommands, options, each option's values (choices,
// files, directories, libvirt domains from `virsh list --all --name`).
#pragma once

#include <ostream>

#include "cli/command_doc.hpp"

namespace vpt::cli {

// For bash-completion (/usr/share/bash-completion/completions/vpt-tune).
void write_bash_completion(std::ostream& out, const CommandDoc& root);

// For zsh's compsys (/usr/share/zsh/vendor-completions/_vpt-tune).
void write_zsh_completion(std::ostream& out, const CommandDoc& root);

}  // namespace vpt::cli
