#include "pve/pve_apply.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/atomic_file.hpp"
#include "common/backups.hpp"
#include "common/input_file.hpp"
#include "common/unified_diff.hpp"
#include "pve/pve_config.hpp"

namespace vpt {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kHookscriptMarker = "# Proxmox VE hookscript written by vpt-tune";

std::string read_config(const std::string& path, unsigned vmid) {
  auto text = read_whole_file(path);
  if (!text)
    throw PveConfigError(fmt::format("cannot read the config of VM {} '{}': {}", vmid, path, std::strerror(errno)));
  return *text;
}

// Writes and reads back; throws std::runtime_error when it reads back different.
void write_checked(const std::string& path, const std::string& text, mode_t mode, std::string_view what) {
  write_file_atomically(path, text, what, mode);
  if (read_whole_file(path) != text)
    throw std::runtime_error(fmt::format("cannot write {} '{}': it reads back different", what, path));
}

// Puts back the hookscript an apply replaced (or removes the one it added).
void put_hookscript_back(const PveApplyResult& result) {
  if (result.previous_hookscript) write_checked(result.hookscript_path, *result.previous_hookscript, 0755, "hookscript");
  else fs::remove(result.hookscript_path);
}

}  // namespace

std::string pve_backup_name(unsigned vmid) { return fmt::format("pve-{}", vmid); }

PveApplyResult apply_pve_config(const PveNode& node, const PveApplyRequest& request) {
  const unsigned vmid = request.vmid;
  PveApplyResult result;
  result.vmid = vmid;
  result.config_path = node.config_path(vmid);
  PveConfigLock lock(node, vmid);

  const std::string current = read_config(result.config_path, vmid);
  if (current != request.planned_from)
    throw PveConfigError(fmt::format("cannot apply the plan to VM {}: its config '{}' changed since it was read; run "
                                     "vpt-tune again",
                                     vmid, result.config_path));
  const PveConfig config = parse_pve_config(current, result.config_path);
  if (config.lock)
    throw PveConfigError(fmt::format("cannot apply the plan to VM {}: it is locked ({}); wait until that task ends "
                                     "(or `qm unlock {}` if it died)",
                                     vmid, *config.lock, vmid));
  const bool config_changes = request.new_config != current;

  // The hookscript first: a config naming a missing hookscript cannot start.
  std::optional<std::string> old_script;
  if (!request.hookscript.empty()) {
    result.hookscript_path = snippet_path(node, request.hookscript_volume);
    old_script = read_whole_file(result.hookscript_path);
    result.previous_hookscript = old_script;
    if (old_script && old_script->find(kHookscriptMarker) == std::string::npos)
      throw PveConfigError(fmt::format("cannot install the hookscript of VM {}: '{}' exists and vpt-tune did not write "
                                       "it; move it away or choose another storage with --snippets-storage",
                                       vmid, result.hookscript_path));
    if (old_script != request.hookscript) {
      std::error_code ec;
      fs::create_directories(fs::path(result.hookscript_path).parent_path(), ec);
      if (ec)
        throw std::runtime_error(fmt::format("cannot create snippets directory '{}': {}",
                                             fs::path(result.hookscript_path).parent_path().string(), ec.message()));
      write_checked(result.hookscript_path, request.hookscript, 0755, "hookscript");
      result.hookscript_written = true;
    }
  }
  auto put_script_back = [&]() -> std::string {
    if (!result.hookscript_written) return "";
    try {
      put_hookscript_back(result);
      return old_script ? "; the previous hookscript is back" : "; the new hookscript is removed again";
    } catch (const std::exception& e) {
      return fmt::format("; putting the previous hookscript back failed too: {}", e.what());
    }
  };

  if (config_changes) {
    result.diff = unified_diff(current, request.new_config, fmt::format("{}.conf (current)", vmid),
                               fmt::format("{}.conf (with the plan)", vmid));
    try {
      result.backup = write_backup(request.backup_dir.empty() ? default_backup_dir() : request.backup_dir,
                                   pve_backup_name(vmid), current, BackupMaker::Apply, ".conf");
    } catch (const std::exception& e) {
      throw PveApplyError(fmt::format("cannot back up the config of VM {}: {}; the config is unchanged{}", vmid,
                                      e.what(), put_script_back()));
    }
    try {
      write_checked(result.config_path, request.new_config, 0640, "Proxmox config");
    } catch (const std::exception& failure) {
      std::string restored;
      try {
        if (read_whole_file(result.config_path) != current) write_checked(result.config_path, current, 0640, "Proxmox config");
        restored = "the previous config is back";
      } catch (const std::exception& e) {
        restored = fmt::format("putting the previous config back failed too: {}; restore it with: vpt-tune restore "
                               "--vmid {} '{}'",
                               e.what(), vmid, result.backup);
      }
      throw PveApplyError(fmt::format("cannot apply the plan to VM {}: {}; {}{}", vmid, failure.what(), restored,
                                      put_script_back()));
    }
    result.config_written = true;
  }
  return result;
}

std::string undo_pve_apply(const PveNode& node, const PveApplyRequest& request, const PveApplyResult& result) {
  std::vector<std::string> trouble;
  try {
    PveConfigLock lock(node, result.vmid);
    if (result.config_written) {
      if (read_whole_file(result.config_path) == request.new_config)
        write_checked(result.config_path, request.planned_from, 0640, "Proxmox config");
      else
        trouble.push_back(fmt::format("its config '{}' changed after the apply and was left as it is; restore it with: "
                                      "vpt-tune restore --vmid {} '{}'",
                                      result.config_path, result.vmid, result.backup));
    }
    if (result.hookscript_written) put_hookscript_back(result);
  } catch (const std::exception& e) {
    trouble.push_back(e.what());
  }
  return trouble.empty() ? std::string() : fmt::format("VM {}: {}", result.vmid, fmt::join(trouble, "; "));
}

std::vector<PveApplyResult> apply_pve_configs(const PveNode& node, const std::vector<PveApplyRequest>& requests,
                                              const std::string& backup_dir) {
  const std::string dir = backup_dir.empty() ? default_backup_dir() : backup_dir;
  std::vector<PveApplyResult> done;
  for (const PveApplyRequest& request : requests) {
    try {
      PveApplyRequest mine = request;
      mine.backup_dir = dir;
      done.push_back(apply_pve_config(node, mine));
    } catch (const std::exception& e) {
      // Newest first, as they were applied in order.
      std::vector<std::string> names, trouble;
      for (std::size_t i = done.size(); i-- > 0;) {
        names.push_back(std::to_string(done[i].vmid));
        if (std::string t = undo_pve_apply(node, requests[i], done[i]); !t.empty()) trouble.push_back(std::move(t));
      }
      std::reverse(names.begin(), names.end());
      throw PveApplyError(fmt::format(
          "cannot apply the whole-host plan: {}; {}{}", e.what(),
          names.empty() ? std::string("nothing else had changed")
                        : fmt::format("rolled back VM{} {}", names.size() == 1 ? "" : "s", fmt::join(names, ", ")),
          trouble.empty() ? std::string() : fmt::format(" (rollback failed for {})", fmt::join(trouble, "; "))));
    }
  }
  std::string record;
  for (const PveApplyResult& r : done)
    if (r.config_written && !r.backup.empty()) record += fmt::format("{}\t{}\n", r.vmid, r.backup);
  if (!record.empty()) {
    try {
      write_backup(dir, kPveWholeHostRecord, record, BackupMaker::Apply, ".tsv");
    } catch (const std::exception& e) {  // every VM has its plan and its own backup: say how to undo without the record
      done.back().notes.push_back(fmt::format("cannot write the whole-host record ({}): `restore --all` cannot undo "
                                              "this apply; undo a VM with `vpt-tune restore --vmid N latest`",
                                              e.what()));
    }
  }
  return done;
}

void write_pve_apply_result(std::ostream& out, const PveApplyResult& r) {
  if (!r.config_written && !r.hookscript_written) {
    out << fmt::format("VM {}: already applied, nothing changed\n", r.vmid);
  } else {
    if (r.config_written) out << r.diff << fmt::format("VM {}: wrote {} and read it back\n", r.vmid, r.config_path);
    if (r.hookscript_written) out << fmt::format("VM {}: installed hookscript {}\n", r.vmid, r.hookscript_path);
    if (!r.backup.empty())
      out << fmt::format("backup of the previous config: {}\n  undo with: vpt-tune restore --vmid {} {}\n", r.backup,
                         r.vmid, r.backup);
  }
  for (const std::string& note : r.notes) out << "note: " << note << '\n';
}

PveRestoreResult restore_pve_config(const PveNode& node, unsigned vmid, const std::string& backup_path,
                                    const std::string& backup_dir) {
  const std::string owner = pve_backup_name(vmid) + ".";
  if (!fs::path(backup_path).filename().string().starts_with(owner))
    throw PveConfigError(fmt::format("cannot restore '{}' to VM {}: it is not a backup of that VM ({}*.conf)",
                                     backup_path, vmid, owner));
  auto text = read_whole_file(backup_path);
  if (!text) throw PveConfigError(fmt::format("cannot read backup '{}': {}", backup_path, std::strerror(errno)));
  parse_pve_config(*text, backup_path);  // a backup that is not a config is refused before anything changes

  PveRestoreResult result;
  result.vmid = vmid;
  const std::string path = node.config_path(vmid);
  PveConfigLock lock(node, vmid);
  auto current = read_whole_file(path);
  if (current) {
    result.backup_of_replaced = write_backup(backup_dir.empty() ? default_backup_dir() : backup_dir,
                                             pve_backup_name(vmid), *current, BackupMaker::Restore, ".conf");
    result.diff = unified_diff(*current, *text, fmt::format("{}.conf (current)", vmid), backup_path);
  }
  try {
    write_checked(path, *text, 0640, "Proxmox config");
  } catch (const std::exception& e) {
    throw PveApplyError(fmt::format("cannot restore VM {} from '{}': {}{}", vmid, backup_path, e.what(),
                                    current ? fmt::format("; the replaced config is in '{}'", result.backup_of_replaced)
                                            : std::string()));
  }
  return result;
}

}  // namespace vpt
