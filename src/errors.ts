// Typed errors. Each carries the exit code it maps to; src/cli.ts is the only
// place that turns them into process.exit.

export const EXIT = {
  OK: 0,
  WARNING: 1,
  CRITICAL: 2,
  UNKNOWN: 3,
  USAGE: 64,
  NOINPUT: 66,
  LOCKED: 75,
  CONFIG: 78,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class HactlError extends Error {
  /** What the error is about (file:line, path, host, key or command), for --json's error.where. */
  where?: string;
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The stable machine code of an error (--json's error.code), by class. */
export const ERROR_CODES: Record<string, string> = {
  ConfigError: 'config',
  UsageError: 'usage',
  InputMissingError: 'input-missing',
  LockedError: 'locked',
  StateError: 'state',
  ActionError: 'action',
};

/** Bad configuration: every problem at once, each already "file:line:col: ..." formatted. */
export class ConfigError extends HactlError {
  constructor(
    readonly problems: string[],
    hint = 'fix the file and run again',
  ) {
    super(problems.join('\n'), EXIT.CONFIG, hint);
    // "file:line:col: ..." -> "file:line:col"
    this.where = /^([^\s:]+(?::\d+){0,2})(?::|$)/.exec(problems[0] ?? '')?.[1];
  }
}

export class UsageError extends HactlError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.USAGE, hint);
  }
}

export class InputMissingError extends HactlError {
  constructor(path: string, message = `${path}: no such file or directory`, hint = 'check the path') {
    super(message, EXIT.NOINPUT, hint);
    this.where = path;
  }
}

export class LockedError extends HactlError {
  constructor(message: string) {
    super(message, EXIT.LOCKED, 'another hactl run is working; it will release the lock when done');
    this.where = /^(\S+\.lock)\b/.exec(message)?.[1];
  }
}

/** State files that cannot be trusted: never silently reset (that could trigger a failover). */
export class StateError extends HactlError {
  constructor(message: string, hint: string) {
    super(message, EXIT.CONFIG, hint);
  }
}

/** An action that was tried and failed (exit 2). */
export class ActionError extends HactlError {
  constructor(message: string, hint?: string) {
    super(message, EXIT.CRITICAL, hint);
  }
}

/** A command carried out its job and wants a specific non-zero exit code, output already printed. */
export class ExitWith extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
