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
  /** A shell test run first on the host; when it fails, the method is absent there and is not run. */
  requires?: string;
}
export interface GatewayConfig {
  port: number;
  probe: { http?: HttpProbe; command?: CommandProbe };
  started: HttpProbe;
  alive: HttpProbe;
  start: Method[];
  /** configured: start methods in the order written; learned: by success on the host (src/failover/learned.ts). */
  order: 'configured' | 'learned';
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
  /** The address its peer uses across the LAN (second view, guard); default: address. */
  lanAddress?: string;
  gateway: GatewayConfig;
}
export interface Thresholds {
  connectTimeout: number;
  commandTimeout: number;
  retryDelay: number;
  failuresBeforeFailover: number;
  successesBeforeFailback: number;
  /** Seconds the primary must have been back, continuously, before failback --auto acts. */
  healthyFor: number;
  verifyDeadline: number;
  stopDeadline: number;
  settle: number;
  pollInterval: number;
  cooldown: number;
  maxAttempts: number;
  stateMaxAge: number;
  lockLease: number;
  /** check --watch: seconds between probes inside one cron window. */
  watchInterval: number;
  /** check --watch: seconds after its start in which a probe may still begin (the cron cadence minus a margin). */
  watchWindow: number;
}
export interface TelegramConfig {
  chatId: string | number;
  tokenEnv: string;
  tokenFile?: string;
  apiRoot: string;
  timeout: number;
}
export interface WebhookConfig {
  /** The webhook URL (a secret: its token is redacted everywhere), or the variable holding it. */
  url?: string;
  urlEnv?: string;
  format: 'discord' | 'slack' | 'generic';
  /** A variable whose value is sent as "Authorization: Bearer <value>". */
  secretEnv?: string;
  /** Extra request headers; their values are treated as secrets. */
  headers?: Record<string, string>;
  timeout: number;
}
export interface DeadmanConfig {
  url?: string;
  urlEnv?: string;
  timeout: number;
  /** Ping after exit 1 (a warning: hactl ran and judged) as well as after 0. */
  onWarning: boolean;
  /** The commands whose good runs ping (default: check, the one cron runs every minute). */
  commands: string[];
}
export interface AlertsConfig {
  prefix: string;
  telegram?: TelegramConfig;
  webhooks?: WebhookConfig[];
  deadman?: DeadmanConfig;
  /** The incident lifecycle (src/alerts/incident.ts); seconds. Optional: code built before them has none. */
  repeatEvery?: number;
  maxRepeats?: number;
  resolveAfter?: number;
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
  alerts: AlertsConfig;
  memory: MemoryConfig;
  validate: ValidateConfig;
  backup: BackupConfig;
  metrics: MetricsConfig;
  heartbeat: HeartbeatConfig;
  resources: ResourcesConfig;
  postgres?: PostgresConfig;
  history: HistoryConfig;
  status: StatusConfig;
  /** Self-fencing (src/guard, docs/partitions.md); unset: no lease, no guard, no wait. */
  guard?: GuardConfig;
  coordination?: { etcd?: EtcdConfig };
}

/** history.jsonl rotation (src/state/history.ts). */
export interface HistoryConfig {
  maxSizeMB: number;
  maxAgeDays: number;
  keep: number;
}
/** hactl status: how often cron runs check (a witness silent for 3 of these is stale). */
export interface StatusConfig {
  checkEvery: number; // s
}

/** Heartbeat files on the hosts (src/health): an operator signal, never a failover reason. */
export interface HeartbeatConfig {
  /** Relative to the SSH login's home, or absolute; unset: <gateway.runDir>/heartbeat. */
  path?: string;
  warning: number; // seconds
  critical: number; // seconds
  required: boolean;
}
/** Resource warnings read by check (src/health): warnings only. */
export interface ResourcesConfig {
  enabled: boolean;
  diskFreePercent: number;
  memoryPercent: number;
  loadPercent: number;
}

export interface GuardConfig {
  /** The host this config is installed on (hactl guard; --host overrides). */
  self?: string;
  lease: number; // seconds
  interval: number; // seconds
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
  /** s: each part of failover's pause step (docs/postgres.md). */
  pauseTimeout: number;
  /** At failover the standby's sequences move this far past the largest known value. */
  sequenceGap: number;
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
  /** sync-memory --watch: seconds between change scans of the serving host's memory (0: no watch). */
  watchEvery: number;
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
