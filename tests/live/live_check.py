#!/usr/bin/env python3
"""Checks for live_vm_test.sh, each from a source independent of vpt-tune's
own report: the kernel's /proc, libvirt's XML, the results file's raw samples.

  live_check.py plan PLAN.json                  print the plan's pins
  live_check.py threads PID PLAN.json           /proc/PID/task/*/status vs the plan
  live_check.py xml DOMAIN.xml PLAN.json        <cputune> pins vs the plan
  live_check.py pins DOMAIN.xml                 print <cputune> pins (one line)
  live_check.py guest RESULTS.json MIN_SAMPLES  the in-guest ping-pong's samples
  live_check.py agent RESULTS.json ROUNDS       the guest section came through the agent: ping-pong,
                                                wake-ups and the steal window, every round present
Exit 1 on a mismatch, with one line per thread or pin saying what differs."""
import json
import os
import statistics
import sys
import xml.etree.ElementTree as ET


def cpus(text):
    """'0-2,5' -> {0, 1, 2, 5}"""
    out = set()
    for part in text.strip().split(','):
        if not part:
            continue
        lo, _, hi = part.partition('-')
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def show(s):
    return ','.join(str(c) for c in sorted(s)) if s else '-'


def plan_pins(path):
    g = json.load(open(path))['guests'][0]
    pins = {f'vcpu{i}': {c} if isinstance(c, int) else set(c) for i, c in enumerate(g['vcpus'])}
    pins['emulator'] = set(g['emulator'])
    for i, io in enumerate(g['iothreads']):
        pins[f'iothread{i + 1}'] = set(io)
    return pins


def thread_role(pid, tid, comm):
    if comm.startswith('CPU ') and '/' in comm:
        return 'vcpu' + comm[4:comm.index('/')]
    if comm.startswith('IO iothread'):
        return 'iothread' + comm[len('IO iothread'):]
    if tid == pid:
        return 'emulator'
    return None  # QEMU's helper threads (call_rcu, IO mon_iothread, workers)


def threads(pid, plan_path):
    plan = plan_pins(plan_path)
    bad, seen = 0, set()
    for tid in sorted(int(t) for t in os.listdir(f'/proc/{pid}/task')):
        base = f'/proc/{pid}/task/{tid}'
        try:
            comm = open(f'{base}/comm').read().strip()
            status = open(f'{base}/status').read()
        except FileNotFoundError:
            continue  # ended meanwhile
        allowed = next(cpus(l.split(':', 1)[1]) for l in status.splitlines() if l.startswith('Cpus_allowed_list:'))
        role = thread_role(pid, tid, comm)
        if role is None:
            # libvirt counts QEMU's helper threads (call_rcu, the monitor's I/O
            # thread) as emulator threads: they must stay within its CPUs. A live
            # pin that widens the emulator's CPUs does not widen them (see
            # docs/live-vm-proof.md), so a narrower set is reported, not failed.
            want = plan['emulator']
            ok = allowed <= want
            bad += not ok
            note = 'ok' if allowed == want else 'ok, narrower (kept from boot)' if ok else 'WRONG'
            print(f'  {tid:>7} {comm:<18} allowed {show(allowed):<6} plan emulator {show(want):<6} {note}')
            continue
        seen.add(role)
        want = plan.get(role)
        ok = want == allowed
        bad += not ok
        print(f'  {tid:>7} {comm:<18} allowed {show(allowed):<6} plan {role} {show(want) if want else "none":<6} '
              f'{"ok" if ok else "WRONG"}')
    for role in sorted(set(plan) - seen):
        print(f'  no thread for {role} of the plan: WRONG')
        bad += 1
    return bad


def xml_pins(path):
    root = ET.parse(path).getroot()
    tune = root.find('cputune')
    pins = {}
    if tune is not None:
        for p in tune.findall('vcpupin'):
            pins['vcpu' + p.get('vcpu')] = cpus(p.get('cpuset'))
        e = tune.find('emulatorpin')
        if e is not None:
            pins['emulator'] = cpus(e.get('cpuset'))
        for p in tune.findall('iothreadpin'):
            pins['iothread' + p.get('iothread')] = cpus(p.get('cpuset'))
    return pins


def compare_xml(xml_path, plan_path):
    have, want = xml_pins(xml_path), plan_pins(plan_path)
    bad = 0
    for key in sorted(set(have) | set(want)):
        ok = have.get(key) == want.get(key)
        bad += not ok
        print(f'  {key:<10} definition {show(have.get(key, set())):<6} plan {show(want.get(key, set())):<6} '
              f'{"ok" if ok else "WRONG"}')
    return bad


def guest(path, min_samples):
    g = json.load(open(path)).get('guest')
    if not g:
        print(f'  {path}: no guest section')
        return 1
    rows = [r for r in g.get('c2c', []) if r.get('cpus') == [0, 1]]
    if not rows or rows[0].get('error'):
        print(f'  {path}: no in-guest ping-pong between vCPUs 0 and 1: {rows[0].get("error") if rows else g.get("error")}')
        return 1
    s = rows[0]['samples_ns']
    rounds = len(s) if s and isinstance(s[0], list) else 1
    if rounds > 1 or (s and isinstance(s[0], list)):  # bench/2: one list a round
        s = [x for r in s for x in r]
    print(f'  {path}: in-guest ping-pong vCPU 0 <-> 1: n={len(s)} in {rounds} rounds, median {statistics.median(s) / 1e3:.1f} us '
          f'a round trip (min {min(s) / 1e3:.1f}, max {max(s) / 1e3:.1f}), guest CPUs {g.get("online_cpus")}')
    if len(s) < min_samples:
        print(f'  fewer than {min_samples} samples')
        return 1
    return 0


def flat(rounds):
    return [x for r in rounds for x in r]


def agent(path, rounds):
    doc = json.load(open(path))
    g, steal = doc.get('guest'), doc.get('steal')
    bad = 0
    if not g or g.get('channel') != 'agent':
        print(f'  {path}: the guest section did not come through the agent: {g and g.get("channel")}, '
              f'warnings: {doc.get("warnings")}')
        return 1
    print(f'  {path}: through {g["via"]} into "{g.get("os")}", probe version {g.get("probe_version")} '
          f'({g.get("probe_os")}), exit {g.get("exit_code")}, {g.get("duration_s"):.1f} s')
    if g.get('exit_code') != 0 or not g.get('complete') or g.get('error'):
        print(f'  the probe did not finish cleanly: {g.get("error")} {g.get("problems")}')
        bad += 1
    c2c = [r for r in g.get('c2c', []) if r.get('cpus') == [0, 1]]
    if not c2c or len(c2c[0]['samples_ns']) != rounds or any(len(r) < 2 for r in c2c[0]['samples_ns']):
        print(f'  no ping-pong vCPU 0 <-> 1 with {rounds} rounds of samples')
        bad += 1
    else:
        s = flat(c2c[0]['samples_ns'])
        print(f'    ping-pong vCPU 0 <-> 1: median {statistics.median(s) / 1e3:.1f} us a round trip, n={len(s)}')
    for cpu in (0, 1):
        w = [r for r in g.get('wakeup', []) if r.get('cpu') == cpu]
        if not w or len(w[0]['samples_us']) != rounds or not flat(w[0]['samples_us']):
            print(f'  no wake-up samples of vCPU {cpu} in {rounds} rounds')
            bad += 1
            continue
        s = sorted(flat(w[0]['samples_us']))
        print(f'    wake-up vCPU {cpu}: p50 {statistics.median(s):.0f} us, p99 {s[int(0.99 * (len(s) - 1))]:.0f} us '
              f'late, n={len(s)} ({w[0].get("timer")})')
    windows = [w for w in (steal or {}).get('windows', []) if w.get('kind') == 'guest probe']
    if not windows or len(windows[0]['vcpus']) != 2:
        print('  no steal window over the in-guest probe with both vCPUs')
        bad += 1
    else:
        for v in windows[0]['vcpus']:
            wait, run = flat(v['wait_percent']), flat(v['run_percent'])
            print(f'    steal vCPU {v["vcpu"]} while the probe ran: waited {statistics.median(wait):.1f}% '
                  f'(median of {len(wait)} samples), ran {statistics.median(run):.1f}%')
    return 1 if bad else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ''
    if cmd == 'plan':
        print(' '.join(f'{k}={show(v)}' for k, v in plan_pins(argv[2]).items()))
        return 0
    if cmd == 'threads':
        return 1 if threads(int(argv[2]), argv[3]) else 0
    if cmd == 'xml':
        return 1 if compare_xml(argv[2], argv[3]) else 0
    if cmd == 'pins':
        print(' '.join(f'{k}={show(v)}' for k, v in sorted(xml_pins(argv[2]).items())))
        return 0
    if cmd == 'guest':
        return guest(argv[2], int(argv[3]))
    if cmd == 'agent':
        return agent(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
