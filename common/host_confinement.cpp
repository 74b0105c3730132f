#include "common/host_confinement.hpp"

namespace vpt {

namespace {

constexpr std::string_view kShell = R"SH(# ---- host confinement (one model for every vpt-tune hook) ----
# A record per guest that confines the host: the CPUs it leaves the host, its
# QEMU's PID file, when it was written. The admin's own values are saved once,
# before the first confinement, and put back when no guest confines any more.
CONFINE_DIR=$STATE_DIR/confine
CONFINE_SAVED=$STATE_DIR/confine.saved
CONFINE_GRACE_S=${VPT_CONFINE_GRACE_S:-120}
PROC_ROOT=${VPT_PROC:-/proc}
CGROUP_ROOT=${VPT_CGROUP_ROOT:-/sys/fs/cgroup}
TAB=$(printf '\t')

# expand "0-3,8": one CPU a line.
expand() {
  echo "$1" | tr ',' '\n' | while IFS=- read -r a b; do
    case $a in ''|*[!0-9]*) continue ;; esac
    b=${b:-$a}
    while [ "$a" -le "$b" ]; do echo "$a"; a=$((a + 1)); done
  done
}

# compact: CPUs one a line, ascending -> "0-3,8".
compact() {
  awk 'NF { if (start == "") { start = $1; prev = $1 } else if ($1 == prev + 1) { prev = $1 }
            else { out = out sep (start == prev ? start : start "-" prev); sep = ","; start = $1; prev = $1 } }
       END { if (start != "") out = out sep (start == prev ? start : start "-" prev); print out }'
}

# The cpuset hierarchy: cgroup v2 (unified) or v1's cpuset controller.
if [ -f "$CGROUP_ROOT/cgroup.controllers" ]; then
  CPUSET_ROOT=$CGROUP_ROOT
elif [ -d "$CGROUP_ROOT/cpuset" ]; then
  CPUSET_ROOT=$CGROUP_ROOT/cpuset
else
  CPUSET_ROOT=
fi

# Cgroups written directly, deepest first (cgroup v1 refuses to shrink a parent
# below its children). With systemd only the ones it does not own (Proxmox's
# containers); without it every group but libvirt's machine groups.
host_groups() {
  [ -n "$CPUSET_ROOT" ] || return 0
  if [ -d "$SYSTEMD_RUN" ]; then
    for group in lxc lxc.monitor; do
      [ -d "$CPUSET_ROOT/$group" ] && echo "$CPUSET_ROOT/$group"
    done
    return 0
  fi
  find "$CPUSET_ROOT" -mindepth 1 -type d \
       ! -path "$CPUSET_ROOT/machine" ! -path "$CPUSET_ROOT/machine/*" \
       ! -path "$CPUSET_ROOT/machine.slice" ! -path "$CPUSET_ROOT/machine.slice/*" 2>/dev/null |
    awk -F/ '{ print NF "\t" $0 }' | sort -rn | cut -f2-
}

# Without systemd: the cpuset controller on, and the root group's processes in
# a group of their own (processes of the root group cannot be confined there).
prepare_cgroup_tree() {
  [ -d "$SYSTEMD_RUN" ] && return 0
  [ -n "$CPUSET_ROOT" ] || { say "no cpuset cgroup found: the host is not confined"; return 1; }
  if [ "$CPUSET_ROOT" = "$CGROUP_ROOT" ]; then
    grep -qw cpuset "$CPUSET_ROOT/cgroup.subtree_control" 2>/dev/null ||
      echo +cpuset > "$CPUSET_ROOT/cgroup.subtree_control" 2>/dev/null || say "cannot enable the cpuset controller"
  fi
  host_group=$CPUSET_ROOT/vpt-tune-host
  if mkdir -p "$host_group" 2>/dev/null; then
    [ -f "$host_group/cpuset.mems" ] && [ -z "$(cat "$host_group/cpuset.mems")" ] &&
      cat "$CPUSET_ROOT/cpuset.mems" > "$host_group/cpuset.mems" 2>/dev/null
    [ -f "$host_group/cpuset.cpus" ] && [ -z "$(cat "$host_group/cpuset.cpus")" ] &&
      echo "$ALL_CPUS" > "$host_group/cpuset.cpus" 2>/dev/null
    while IFS= read -r pid; do
      echo "$pid" > "$host_group/cgroup.procs" 2>/dev/null  # kernel threads stay where they are
    done < "$CPUSET_ROOT/cgroup.procs"
  fi
  return 0
}

# remember KIND NAME VALUE: the value before vpt-tune first changed it, once.
remember() {
  mkdir -p "$STATE_DIR" || return 0
  grep -qF "$1$TAB$2$TAB" "$CONFINE_SAVED" 2>/dev/null && return 0
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$CONFINE_SAVED"
}

allowed_cpus_of() { "$SYSTEMCTL" show -p AllowedCPUs --value -- "$1" 2>/dev/null; }

set_host_cpus() {
  if [ -d "$SYSTEMD_RUN" ]; then
    for unit in system.slice user.slice init.scope $(guest_units); do
      remember unit "$unit" "$(allowed_cpus_of "$unit")"
      "$SYSTEMCTL" set-property --runtime -- "$unit" "AllowedCPUs=$1" || say "cannot set AllowedCPUs of $unit"
    done
  fi
  # One group a line: names with spaces or glob characters stay whole.
  host_groups | while IFS= read -r group; do
    [ -f "$group/cpuset.cpus" ] || continue
    remember group "$group" "$(cat "$group/cpuset.cpus")"
    echo "$1" > "$group/cpuset.cpus" 2>/dev/null || say "cannot confine $group"
  done
}

# Puts back what was saved, parents first (the reverse of confining).
restore_host_cpus() {
  [ -f "$CONFINE_SAVED" ] || return 0
  tac "$CONFINE_SAVED" | while IFS="$TAB" read -r kind name value; do
    case $kind in
      unit) "$SYSTEMCTL" set-property --runtime -- "$name" "AllowedCPUs=$value" || say "cannot restore AllowedCPUs of $name" ;;
      group) echo "$value" > "$name/cpuset.cpus" 2>/dev/null || say "cannot restore $name" ;;
    esac
  done
  rm -f "$CONFINE_SAVED"
}

# Does record $1 still count: its QEMU runs, or it was written moments ago?
record_alive() {
  pidfile=$(sed -n 2p "$1")
  since=$(sed -n 3p "$1")
  if [ -n "$pidfile" ] && [ -r "$pidfile" ]; then
    pid=$(head -n 1 "$pidfile" 2>/dev/null)
    case $pid in ''|*[!0-9]*) ;; *) [ -d "$PROC_ROOT/$pid" ] && return 0 ;; esac
  fi
  case $since in ''|*[!0-9]*) return 1 ;; esac
  [ $(($(date +%s) - since)) -lt "$CONFINE_GRACE_S" ]
}

# The CPUs every live record leaves the host, comma-separated ("" when they
# share none); records of guests that are gone are dropped on the way.
confined_share() {
  first=1; share=''
  for f in "$CONFINE_DIR"/*; do
    [ -f "$f" ] || continue
    if ! record_alive "$f"; then
      say "$(basename "$f") no longer runs: it stops confining the host"
      rm -f "$f"
      continue
    fi
    cpus=$(expand "$(head -n 1 "$f")")
    if [ "$first" = 1 ]; then
      share=$cpus; first=0
    else
      share=$(for c in $share; do echo "$cpus" | grep -qx "$c" && echo "$c"; done)
    fi
  done
  echo "$share" | sort -n | compact
}

confine_host() {
  mkdir -p "$CONFINE_DIR" || { say "cannot write $CONFINE_DIR: the host is not confined"; return 0; }
  prepare_cgroup_tree || return 0
  printf '%s\n%s\n%s\n' "$2" "$3" "$(date +%s)" > "$CONFINE_DIR/$1"
  share=$(confined_share)
  if [ -z "$share" ]; then
    say "the guests that confine the host leave it no CPU in common: the host is not confined"
    return 0
  fi
  set_host_cpus "$share"
  say "the host's own processes run on CPUs $share while the guests that confine it run"
}

release_host() {
  rm -f "$CONFINE_DIR/$1"
  share=$(confined_share)
  if [ -n "$share" ]; then
    set_host_cpus "$share"
    say "other guests still confine the host: it keeps CPUs $share"
  elif [ -n "$(ls -A "$CONFINE_DIR" 2>/dev/null)" ]; then
    say "the guests still running leave the host no CPU in common: its cgroups stay as they are"
  else
    restore_host_cpus
    say "no guest confines the host any more: its CPUs are what they were before"
  fi
}
)SH";

}  // namespace

std::string_view host_confinement_shell() { return kShell; }

}  // namespace vpt
