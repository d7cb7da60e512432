// Config: parse and validate (pure but for rule schema files). Every problem is reported at once as
// file:line:col: key, value found, what is allowed, capped at MAX_PROBLEMS lines so a hostile file cannot
// flood the terminal or take minutes. Loaded by load.ts only for a config not in the cache (cache.ts).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { describeAjvError, type AjvError, type Validator } from '../validators.js';
import type { Config, GatewayConfig, HostConfig } from './types.js';
import { ruleProblems, type ReadSchema } from './rules.js';
import { DURATION_HELP, durationAt, formatDuration, normalizeDurations, UNIT_OF } from './durations.js';
import { readYaml } from './yaml.js';
import { offsetOf, valueFound } from './locate.js';
import { guardProblems, pairProblems, tierProblems, type Finding } from './cross.js';
import { sshPathProblems } from './ssh-paths.js';
import { expandPath } from './load.js';
import { keysAt, nearestKey } from './suggest.js';
import { packageFile } from '../paths.js';
import { segments } from './locate.js';

/** More lines than this help nobody: the first ones are shown, then a count of the rest. */
export const MAX_PROBLEMS = 50;

export interface ParseOptions {
  /** How rule schema files are read (the one I/O here; tests inject it). */
  readSchema?: ReadSchema;
  /** Deprecations and other warnings, each one line with file:line:col; they never stop a run. */
  warn?: (line: string) => void;
  /** The config's JSON Schema, for "did you mean" (read from schema/hactl.schema.json when a key is unknown). */
  schema?: Record<string, unknown>;
}

let schemaCache: Record<string, unknown> | null | undefined;
/** schema/hactl.schema.json, read once and only when a key is unknown; null when it cannot be read. */
function configSchema(): Record<string, unknown> | null {
  if (schemaCache === undefined) {
    try {
      schemaCache = JSON.parse(readFileSync(packageFile('schema/hactl.schema.json'), 'utf8')) as Record<
        string,
        unknown
      >;
    } catch {
      schemaCache = null;
    }
  }
  return schemaCache;
}

/**
 * A mistyped key gets "did you mean"; when the key it means is required there, the two ajv
 * errors (an extra key, a missing one) become one line: `chatID` is not two unrelated problems.
 */
function linkTypos(errors: AjvError[], schema: () => Record<string, unknown> | null): AjvError[] {
  const extra = errors.filter((e) => e.keyword === 'additionalProperties');
  if (!extra.length) return errors;
  const root = schema();
  if (!root) return errors;
  const meant = new Map<AjvError, string>();
  for (const e of extra) {
    const key = String(e.params.additionalProperty);
    const near = nearestKey(key, keysAt(root, segments(e.instancePath)));
    if (near) meant.set(e, near);
  }
  const covered = (r: AjvError) =>
    r.keyword === 'required' &&
    [...meant].some(([e, near]) => e.instancePath === r.instancePath && near === r.params.missingProperty);
  return errors
    .filter((e) => !covered(e))
    .map((e) => {
      const near = meant.get(e);
      if (!near) return e;
      const required = errors.some(
        (r) => r.keyword === 'required' && r.instancePath === e.instancePath && r.params.missingProperty === near,
      );
      return { ...e, params: { ...e.params, didYouMean: near, ...(required && { required: true }) } };
    });
}

const lineOf = (p: string): number => {
  const m = /:(\d+):(\d+): /.exec(p);
  return m ? Number(m[1]) * 100000 + Number(m[2]) : 0;
};

/** Pure (but for rule schema files, read through opts.readSchema): text -> Config, or ConfigError. */
export function parseConfig(text: string, file: string, validate: Validator, opts: ParseOptions = {}): Config {
  const { doc, data: parsed, at } = readYaml(text, file);
  const data = parsed === null || parsed === undefined ? {} : parsed;
  const place = ({ path, msg }: Finding) => `${at(offsetOf(doc, { instancePath: path }))}: ${path} ${msg}`;
  const problems: string[] = [];
  let more = 0;
  // Only the lines shown are located (locating is the costly part for a file of 30,000 keys).
  const add = <T>(items: T[], say: (item: T) => string) => {
    const room = Math.max(0, MAX_PROBLEMS - problems.length);
    problems.push(...items.slice(0, room).map(say));
    more += Math.max(0, items.length - room);
  };
  const durations = normalizeDurations(data);
  add(durations.problems, place);
  for (const w of durations.warnings) opts.warn?.(place(w));
  const valid = validate(data);
  const told = new Set(durations.problems.map((p) => p.path));
  // A bad duration string is already said in words; ajv's pattern error would only repeat it.
  // propertyNames repeats the pattern error just before it.
  const shown = (e: AjvError) => !told.has(e.instancePath) && e.keyword !== 'propertyNames';
  const schema = () => opts.schema ?? configSchema();
  const errors = valid ? [] : linkTypos(relevantErrors(validate.errors ?? []).filter(shown), schema);
  add(errors, (err) => `${at(offsetOf(doc, locator(err)))}: ${describeError(err)}${valueFound(doc, err)}`);
  // Cross-field checks run even when the schema failed, so every problem is reported at once.
  const hosts = (data as { hosts?: unknown }).hosts;
  const hostNames = hosts && typeof hosts === 'object' ? Object.keys(hosts) : [];
  add(pairProblems(data, hostNames), place);
  const rules = (data as { validate?: { rules?: unknown } }).validate?.rules;
  const atKey = (path: string) => at(offsetOf(doc, { instancePath: path }));
  add(ruleProblems(rules, file, opts.readSchema), ({ path, msg }) => `${atKey(path)}: ${path}: ${msg}`);
  add(tierProblems(data, hostNames), place);
  add(sshPathProblems(data), place);
  if (valid) add(guardProblems(data), place);
  problems.sort((a, b) => lineOf(a) - lineOf(b));
  if (more) problems.push(`${file}: ... and ${more} more problem${more === 1 ? '' : 's'} (fix these first)`);
  if (problems.length || !valid) throw new ConfigError(problems);
  return assemble(data as RawConfig, file);
}

type RawConfig = Omit<Config, 'file' | 'hosts'> & {
  hosts: Record<string, Omit<HostConfig, 'name' | 'gateway'> & { gateway?: Partial<GatewayConfig> }>;
};

/** Validated data -> Config: per-host gateway settings merged, paths made absolute. */
function assemble(raw: RawConfig, file: string): Config {
  const base = dirname(resolve(file));
  const path = (p: string) => expandPath(p, base);
  const hosts: Record<string, HostConfig> = {};
  for (const [name, h] of Object.entries(raw.hosts)) {
    const gateway = { ...raw.gateway, ...(h.gateway ?? {}) } as GatewayConfig;
    hosts[name] = { ...h, name, key: path(h.key), knownHosts: path(h.knownHosts), gateway };
  }
  const tg = raw.alerts.telegram;
  return {
    ...raw,
    file,
    stateDir: path(raw.stateDir),
    hosts,
    alerts: {
      ...raw.alerts,
      telegram: tg ? { ...tg, tokenFile: tg.tokenFile ? path(tg.tokenFile) : undefined } : undefined,
    },
  } as Config;
}

type NamedError = AjvError & { propertyName?: string };

const NAME_RULES: Array<[RegExp, string]> = [
  [/\/env$/, 'which is not a shell identifier (letters, digits and _, not starting with a digit)'],
  [/^\/hosts$/, 'which is not a host name (letters, digits, _ . -, starting with a letter or digit, at most 63)'],
];
const PATTERN_WORDS: Array<[RegExp, string]> = [
  [/^\/alerts\/telegram\/apiRoot$/, 'must be an http(s) URL: scheme, host, optional port, path (no query, no spaces)'],
  [/^\/alerts\/telegram\/tokenEnv$/, 'must be an environment variable name (letters, digits, _; no leading digit)'],
];

/** A bad key name (propertyNames) is located at the key itself. */
function locator(err: NamedError): NamedError {
  if (err.propertyName === undefined) return err;
  return { ...err, keyword: 'additionalProperties', params: { additionalProperty: err.propertyName } };
}

/** ajv's message, said in the key's own terms: durations in their unit, names and patterns in words. */
function describeError(err: NamedError): string {
  if (err.propertyName !== undefined) {
    const rule = NAME_RULES.find(([re]) => re.test(err.instancePath));
    const why = rule?.[1] ?? `whose name ${err.message ?? 'is not allowed'}`;
    return `${err.instancePath || '/'} has the key '${err.propertyName.slice(0, 60)}', ${why}`;
  }
  if (typeof err.params.didYouMean === 'string') {
    const near = err.params.didYouMean;
    const req = err.params.required ? ` (a required key, missing)` : '';
    return `${describeAjvError(err)}: did you mean '${near}'?${req}`;
  }
  const words = err.keyword === 'pattern' && PATTERN_WORDS.find(([re]) => re.test(err.instancePath))?.[1];
  if (words) return `${err.instancePath} ${words}`;
  const d = durationAt(err.instancePath);
  if (!d) return describeAjvError(err);
  const unit = UNIT_OF[d.unit];
  if (err.keyword === 'type') return `${err.instancePath} must be ${DURATION_HELP}, or a number of ${unit.name}`;
  const { limit, comparison } = err.params;
  if (typeof limit === 'number' && typeof comparison === 'string') {
    const human = limit > 0 ? ` (${formatDuration(limit * unit.ms)})` : '';
    return `${err.instancePath} must be ${comparison} ${limit} ${unit.name}${human}`;
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
