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

/** Disk free of the nearest existing directory (a standby may not have the memory root yet). */
function diskLine(label: string, path: string): string {
  return [
    `d=${remotePath(path)}`,
    'while [ ! -e "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do d=$(dirname -- "$d"); done',
    `echo "disk ${label} $(timeout 5 df -Pk -- "$d" 2>/dev/null | awk 'NR==2{print $2, $4}')"`,
  ].join('\n');
}

/** The whole read, one remote command; prints `now`, `hb`, `ncpu`, `load`, `mem`, `disk` lines. */
export function healthScript(config: Config, host: HostConfig): string {
  const hb = remotePath(heartbeatPath(config, host));
  const lines = [
    'echo "now $(date +%s)"',
    `f=${hb}`,
    'if [ -e "$f" ]; then echo "hb $(stat -c %Y -- "$f" 2>/dev/null || stat -f %m -- "$f" 2>/dev/null)"; ' +
      'else echo "hb none"; fi',
  ];
  if (config.resources.enabled) {
    lines.push(
      'echo "ncpu $(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null)"',
      'if [ -r /proc/loadavg ]; then echo "load $(cut -d" " -f1-3 /proc/loadavg)"; ' +
        `else echo "load $(sysctl -n vm.loadavg 2>/dev/null | tr -d '{}')"; fi`,
      '[ -r /proc/meminfo ] && awk \'/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print "mem", t, a}\' /proc/meminfo',
      diskLine('memory', config.memory.root),
      diskLine('runDir', host.gateway.runDir),
    );
  }
  lines.push('exit 0');
  return lines.join('\n');
}
