// Config: find and read the file (I/O), then parse and validate it (pure).
// Every problem is reported at once as file:line:col: key, value found, what is allowed.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { ConfigError } from '../errors.js';
import { describeAjvError, loadValidator, type AjvError, type Validator } from '../validators.js';
import type { Config, GatewayConfig, HostConfig } from './types.js';
import { decodeConfig, readConfigBytes } from './read.js';
import { ruleProblems, type ReadSchema } from './rules.js';
import { DURATION_HELP, durationAt, formatDuration, normalizeDurations, UNIT_OF } from './durations.js';

export const DEFAULT_PATHS = ['./hactl.yaml', '/etc/hactl/hactl.yaml'];

export function findConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  if (env.HACTL_CONFIG) return env.HACTL_CONFIG;
  for (const p of DEFAULT_PATHS) if (existsSync(p)) return p;
  throw new ConfigError(
    [`no config file: none given with --config or HACTL_CONFIG, and none at ${DEFAULT_PATHS.join(' or ')}`],
    'copy hactl.example.yaml to /etc/hactl/hactl.yaml and edit it',
  );
}

export async function loadConfig(explicit?: string): Promise<Config> {
  const file = findConfigPath(explicit);
  const text = decodeConfig(readConfigBytes(file), file);
  return parseConfig(text, file, await loadValidator('hactl'), { warn: (line) => process.stderr.write(`hactl: warning: ${line}\n`) });
}

/** Pure: text -> Config, or ConfigError listing every problem. */
const lineOf = (p: string): number => {
  const m = /:(\d+):(\d+): /.exec(p);
  return m ? Number(m[1]) * 10000 + Number(m[2]) : 0;
};

export interface ParseOptions {
  /** How rule schema files are read (the one I/O here; tests inject it). */
  readSchema?: ReadSchema;
  /** Deprecations and other warnings, each one line with file:line:col; they never stop a run. */
  warn?: (line: string) => void;
}

export function parseConfig(text: string, file: string, validate: Validator, opts: ParseOptions = {}): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, logLevel: 'error', uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return `${file}:1:1`;
    const { line, col } = lc.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const problems: string[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) problems.push(`${at(e.pos[0])}: ${e.message.split('\n')[0]}`);
  if (problems.length) throw new ConfigError(problems);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError([`${file}:1:1: ${(e as Error).message}`]);
  }
  if (data === null || data === undefined) data = {};
  const durations = normalizeDurations(data);
  const place = ({ path, msg }: { path: string; msg: string }) => `${at(offsetOf(doc, { instancePath: path }))}: ${path} ${msg}`;
  problems.push(...durations.problems.map(place));
  for (const w of durations.warnings) opts.warn?.(place(w));
  const valid = validate(data);
  const told = new Set(durations.problems.map((p) => p.path));
  if (!valid) {
    for (const err of relevantErrors(validate.errors ?? [])) {
      if (told.has(err.instancePath)) continue; // a bad duration string, already said in words
      problems.push(`${at(offsetOf(doc, err))}: ${describeError(err)}${valueFound(doc, err)}`);
    }
  }
  // Cross-field checks run even when the schema failed, so every problem is reported at once.
  const loose = data as { hosts?: unknown; pair?: Record<string, unknown> };
  const hostNames = loose.hosts && typeof loose.hosts === 'object' ? Object.keys(loose.hosts) : [];
  for (const role of ['primary', 'standby'] as const) {
    const name = loose.pair?.[role];
    if (typeof name === 'string' && !hostNames.includes(name)) problems.push(`${at(offsetOf(doc, { instancePath: `/pair/${role}` }))}: /pair/${role} names host '${name}', which is not under hosts (known: ${hostNames.join(', ') || 'none'})`);
  }
  if (typeof loose.pair?.primary === 'string' && loose.pair.primary === loose.pair.standby) problems.push(`${at(offsetOf(doc, { instancePath: '/pair/standby' }))}: /pair/standby must differ from /pair/primary ('${loose.pair.primary}')`);
  const rules = (data as { validate?: { rules?: unknown } }).validate?.rules;
  problems.push(...ruleProblems(rules, file, opts.readSchema).map(({ path, msg }) => `${at(offsetOf(doc, { instancePath: path }))}: ${path}: ${msg}`));
  problems.push(...tierProblems(data, hostNames).map(({ path, msg }) => `${at(offsetOf(doc, { instancePath: path }))}: ${path} ${msg}`));
  problems.sort((a, b) => lineOf(a) - lineOf(b));
  if (problems.length || !valid) throw new ConfigError(problems);
  const raw = data as Omit<Config, 'file' | 'hosts'> & { hosts: Record<string, Omit<HostConfig, 'name' | 'gateway'> & { gateway?: Partial<GatewayConfig> }> };
  const base = dirname(resolve(file));
  const path = (p: string) => expandPath(p, base);
  const hosts: Record<string, HostConfig> = {};
  for (const [name, h] of Object.entries(raw.hosts)) {
    hosts[name] = { ...h, name, key: path(h.key), knownHosts: path(h.knownHosts), gateway: { ...raw.gateway, ...(h.gateway ?? {}) } as GatewayConfig };
  }
  const tg = raw.alerts.telegram;
  return {
    ...raw,
    file,
    stateDir: path(raw.stateDir),
    hosts,
    alerts: { ...raw.alerts, telegram: tg ? { ...tg, tokenFile: tg.tokenFile ? path(tg.tokenFile) : undefined } : undefined },
  } as Config;
}

export function expandPath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}

/** ajv's message, said in the key's own terms where it is a duration. */
function describeError(err: AjvError): string {
  const d = durationAt(err.instancePath);
  if (!d) return describeAjvError(err);
  const unit = UNIT_OF[d.unit];
  if (err.keyword === 'type') return `${err.instancePath} must be ${DURATION_HELP}, or a number of ${unit.name}`;
  const limit = err.params.limit;
  if (typeof limit === 'number' && typeof err.params.comparison === 'string') {
    return `${err.instancePath} must be ${err.params.comparison} ${limit} ${unit.name}${limit > 0 ? ` (${formatDuration(limit * unit.ms)})` : ''}`;
  }
  return describeAjvError(err);
}

// With allErrors, a failed oneOf/anyOf reports each branch too; keep what helps a person.
function relevantErrors(errors: AjvError[]): AjvError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function segments(instancePath: string): string[] {
  return instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function offsetOf(doc: Document, err: Pick<AjvError, 'instancePath'> & Partial<AjvError>): number | undefined {
  const segs = segments(err.instancePath);
  const node = (segs.length ? doc.getIn(segs, true) : doc.contents) as YamlNode | undefined;
  // Point at the offending key of an extra property, not at its map.
  if (err.keyword === 'additionalProperties' && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === err.params?.additionalProperty);
    if (pair && isScalar(pair.key)) return pair.key.range?.[0];
  }
  if (node && 'range' in node && node.range) return node.range[0];
  // The path may not exist (a required key): walk up to the nearest existing node.
  for (let i = segs.length - 1; i >= 0; i--) {
    const up = doc.getIn(segs.slice(0, i), true) as YamlNode | undefined;
    if (up && 'range' in up && up.range) return up.range[0];
  }
  return undefined;
}

function valueFound(doc: Document, err: AjvError): string {
  if (['required', 'additionalProperties', 'oneOf'].includes(err.keyword)) return '';
  const v = doc.getIn(segments(err.instancePath));
  if (v === undefined || (typeof v === 'object' && v !== null)) return '';
  return ` (found ${JSON.stringify(v)})`;
}

/** Backup tiers: unique names, known hosts in HOST:PATH, `via` for two remote hosts, a known upstream. */
function tierProblems(data: unknown, hostNames: string[]): Array<{ path: string; msg: string }> {
  const tiers = (data as { backup?: { tiers?: unknown } })?.backup?.tiers;
  if (!Array.isArray(tiers)) return [];
  const out: Array<{ path: string; msg: string }> = [];
  const names = tiers.map((t) => (t && typeof t === 'object' ? (t as { name?: unknown }).name : undefined));
  const hostOf = (loc: unknown): string | undefined => (typeof loc === 'string' ? /^([A-Za-z0-9][A-Za-z0-9_.-]*):/.exec(loc)?.[1] : undefined);
  tiers.forEach((t: Record<string, unknown> | null, i) => {
    if (!t || typeof t !== 'object') return;
    if (typeof t.name === 'string' && names.indexOf(t.name) !== i) out.push({ path: `/backup/tiers/${i}/name`, msg: `repeats the tier name '${t.name}'` });
    for (const key of ['source', 'destination'] as const) {
      const h = hostOf(t[key]);
      if (h && !hostNames.includes(h)) out.push({ path: `/backup/tiers/${i}/${key}`, msg: `names host '${h}', which is not under hosts (known: ${hostNames.join(', ') || 'none'})` });
    }
    const [hs, hd] = [hostOf(t.source), hostOf(t.destination)];
    if (hs && hd && hs !== hd && !t.via) out.push({ path: `/backup/tiers/${i}`, msg: `copies between two hosts (${hs} -> ${hd}) and needs 'via: {key, knownHosts}': the key and known_hosts on ${hd} for its SSH to ${hs}` });
    if (typeof t.upstream === 'string' && !names.includes(t.upstream)) out.push({ path: `/backup/tiers/${i}/upstream`, msg: `names no tier '${t.upstream}' (tiers: ${names.filter((n) => typeof n === 'string').join(', ')})` });
  });
  return out;
}
