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
  // Filled in by the memory, validate and backup modules (their own shapes).
  memory: Record<string, unknown>;
  validate: Record<string, unknown>;
  backup: Record<string, unknown>;
}

export type Role = 'primary' | 'standby';
