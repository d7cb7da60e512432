// The configuration after validation and defaults (see schema/hactl.schema.json).

export interface HttpProbe {
  url: string;
  status: number;
  json?: Record<string, unknown>;
}
export interface CommandProbe {
  run: string;
  match?: string;
}
export interface Method {
  name: string;
  run?: string;
  detached?: string;
  pidfile?: boolean;
  portOwner?: boolean;
  env?: Record<string, string>;
}
export interface GatewayConfig {
  port: number;
  probe: { http?: HttpProbe; command?: CommandProbe };
  started: HttpProbe;
  alive: HttpProbe;
  start: Method[];
  stop: Method[];
  runDir: string;
  env: Record<string, string>;
}
export interface HostConfig {
  name: string;
  address: string;
  port: number;
  user: string;
  key: string;
  knownHosts: string;
  gateway: GatewayConfig;
}
export interface Thresholds {
  connectTimeout: number;
  commandTimeout: number;
  retryDelay: number;
  failuresBeforeFailover: number;
  successesBeforeFailback: number;
  verifyDeadline: number;
  stopDeadline: number;
  settle: number;
  pollInterval: number;
  cooldown: number;
  maxAttempts: number;
  stateMaxAge: number;
  lockLease: number;
}
export interface TelegramConfig {
  chatId: string | number;
  tokenEnv: string;
  tokenFile?: string;
  apiRoot: string;
  timeout: number;
}
export interface Config {
  file: string;
  version: 1;
  stateDir: string;
  hosts: Record<string, HostConfig>;
  pair: { primary: string; standby: string };
  gateway: GatewayConfig; // defaults; each host has its merged copy
  thresholds: Thresholds;
  failback: { policy: 'auto' | 'manual' };
  alerts: { prefix: string; telegram?: TelegramConfig };
  memory: MemoryConfig;
  validate: ValidateConfig;
  backup: BackupConfig;
  metrics: MetricsConfig;
  postgres?: PostgresConfig;
  coordination?: { etcd?: EtcdConfig };
}

/** Several witnesses through etcd (src/coordination/); absent: one witness, local files. */
export interface EtcdConfig {
  endpoints: string[];
  ca?: string;
  cert?: string;
  key?: string;
  /** Durations, read by src/coordination/plan.ts etcdTimes (a bare number is seconds). */
  leaseTTL: number | string;
  timeout: number | string;
  prefix?: string;
  name?: string;
}

export interface MetricsConfig {
  /** node_exporter textfile (absolute, *.prom); unset: no metrics. */
  textfile?: string;
}

export interface PostgresTable {
  schema: string;
  name: string;
  key: string[];
}
export interface PostgresConfig {
  database: string;
  publication: string;
  subscription: string;
  /** argv of psql on a host (each word quoted); hactl appends its own flags. */
  psql: string[];
  hosts: Record<string, { psql: string[] }>;
  tables: PostgresTable[];
  lagWarning: number; // bytes
  timeout: number;
}

export interface MemoryConfig {
  enabled: boolean;
  /** Relative to the SSH login's home, or absolute. */
  root: string;
  include: string[];
  exclude: string[];
  interval: number;
  maxDeleteShare: number;
  deleteAllowance: number;
  /** Witness directory; relative to stateDir. */
  staging: string;
  deadline: number;
  lastChanceDeadline: number;
  ioTimeout: number;
  bwlimit: number;
  fullPushEvery: number;
}
export interface ValidateRule {
  glob: string;
  /** A JSON Schema file (relative to the config file) or an inline schema. */
  schema: string | Record<string, unknown>;
}
export interface ValidateConfig {
  rules: ValidateRule[];
  ignore: string[];
  /** Size cap per memory file in MB (default 5): larger files are reported too large, never read. */
  maxFileMB?: number;
}

export type Role = 'primary' | 'standby';

export interface TierConfig {
  name: string;
  source: string;
  destination: string;
  filters: string[];
  interval: number; // minutes
  upstream?: string;
  retention: { hourly: number; daily: number; weekly: number };
  minFreeMB: number;
  deepVerifyEvery: number;
  sqlite: string[];
  via?: { key: string; knownHosts: string };
}
export interface BackupConfig {
  deadline: number;
  ioTimeout: number;
  tiers: TierConfig[];
}
