// The one remote command check runs per host for the operator's view (issue 13, items 4
// and 5): the host's own clock, its heartbeat file's mtime, cores, load, memory and the
// disk free where the memory root and the run directory live. Every configured path
// enters through shq; labels are fixed words. Output is `key value...` lines (parse.ts).
import { shq } from '../adapters/shell.js';
import type { Config, HostConfig } from '../config/types.js';

/** A path on a host: relative to the login's home, or absolute. */
export function remotePath(p: string): string {
  return p.startsWith('/') ? shq(p) : `"$HOME"/${shq(p)}`;
}

/** The heartbeat file of a host: heartbeat.path, else <runDir>/heartbeat. */
export function heartbeatPath(config: Config, host: HostConfig): string {
  return config.heartbeat.path ?? `${host.gateway.runDir.replace(/\/+$/, '')}/heartbeat`;
}

/** Sets `var` to the nearest existing directory of itself, with shell builtins only (no dirname per level). */
function nearest(v: string): string {
  return (
    `while [ ! -e "$${v}" ] && [ "$${v}" != / ] && [ "$${v}" != . ]; do ` +
    `case "$${v}" in */*) ${v}="\${${v}%/*}"; ${v}="\${${v}:-/}";; *) ${v}=.;; esac; done`
  );
}

/**
 * The reading itself, one awk: the host's clock (`date`'s, given as now), the heartbeat line and df's lines
 * from stdin, then cores, load and memory from /proc and /sys (sysctl on a host without them), with no
 * process of its own on Linux.
 */
const READ_AWK = [
  'BEGIN { print "now", now }',
  '/^hb / { print; next }',
  '/^Filesystem/ { next }',
  // One df for both paths: one line per path, in order, when it succeeded ("df ok"); when it failed for
  // one of them (its lines are then not known to be whose), each path is read again after its label.
  '/^df ok$/ { for (i = 1; i <= n; i++) print "disk", (i == 1 ? "memory" : "runDir"), sz[i], av[i]; n = 0; next }',
  '/^df each$/ { n = 0; each = 1; next }',
  '/^dk / { lab = $2; next }',
  'NF >= 4 && res && each { if (lab != "") print "disk", lab, $2, $4; lab = ""; next }',
  'NF >= 4 && res { n++; sz[n] = $2; av[n] = $4 }',
  'END {',
  '  if (!res) exit',
  '  c = 0',
  '  if ((getline on < "/sys/devices/system/cpu/online") > 0) {',
  '    k = split(on, part, ",")',
  '    for (i = 1; i <= k; i++) { m = split(part[i], r, "-"); c += (m == 2 ? r[2] - r[1] + 1 : 1) }',
  '  }',
  '  if (!c) while ((getline l < "/proc/cpuinfo") > 0) if (l ~ /^processor[ \t]*:/) c++',
  '  if (!c) { "sysctl -n hw.ncpu 2>/dev/null" | getline c }',
  '  print "ncpu", c',
  '  if ((getline l < "/proc/loadavg") > 0) { split(l, a, " "); print "load", a[1], a[2], a[3] }',
  '  else { "sysctl -n vm.loadavg 2>/dev/null" | getline l; gsub(/[{}]/, "", l); print "load", l }',
  '  t = ""; v = ""',
  '  while ((getline l < "/proc/meminfo") > 0) {',
  '    split(l, a, " ")',
  '    if (a[1] == "MemTotal:") t = a[2]',
  '    if (a[1] == "MemAvailable:") v = a[2]',
  '  }',
  '  if (t != "") print "mem", t, v',
  '}',
].join('\n');

/**
 * The whole read, one remote command; prints `now`, `hb`, `ncpu`, `load`, `mem`, `disk` lines. Six
 * processes on the host (sh, date, stat, timeout and df, awk) where it was about fifteen: one run of df for both
 * places, builtins instead of dirname, awk reading /proc instead of a command per value.
 */
export function healthScript(config: Config, host: HostConfig): string {
  const hb = remotePath(heartbeatPath(config, host));
  const res = config.resources.enabled;
  const lines = [
    `f=${hb}`,
    '{',
    '  if [ -e "$f" ]; then stat -c "hb %Y" -- "$f" 2>/dev/null || stat -f "hb %m" -- "$f" 2>/dev/null',
    '  else echo "hb none"; fi',
  ];
  if (res) {
    lines.splice(
      1,
      0,
      `d1=${remotePath(config.memory.root)}`,
      `d2=${remotePath(host.gateway.runDir)}`,
      nearest('d1'),
      nearest('d2'),
    );
    // Memory root first, then the run directory: awk names them in that order once df said it read both.
    // Else each alone, after its label (not again after a timeout: a hung filesystem would only hang again).
    lines.push(
      '  if timeout 5 df -Pk -- "$d1" "$d2" 2>/dev/null; then echo "df ok"',
      '  elif [ $? -ne 124 ]; then echo "df each"',
      '    echo "dk memory"; timeout 5 df -Pk -- "$d1" 2>/dev/null',
      '    echo "dk runDir"; timeout 5 df -Pk -- "$d2" 2>/dev/null',
      '  fi',
    );
  }
  lines.push(`} | awk -v now="$(date +%s)" -v res=${res ? 1 : 0} ${shq(READ_AWK)}`, 'exit 0');
  return lines.join('\n');
}
