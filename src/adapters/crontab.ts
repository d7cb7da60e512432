// The user's crontab, through the system's own `crontab` program (it checks the
// syntax, takes cron's locks and tells the daemon). Read with `crontab -l`;
// written with `crontab FILE` from a 0600 file in a private temporary folder,
// which needs no stdin pipe and so uses runProcess as it is.
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from './process.js';
import { ActionError } from '../errors.js';

const DEADLINE = 15; // s: crontab is local and quick; a hung one must not hang hactl

const NO_CRON = 'install cron (apt-get install cron) or use hactl cron --systemd DIR';

/**
 * Whether `name` is an executable file in a directory of $PATH, as execvp finds it (an empty entry: the
 * working directory; no PATH: its default).
 */
export function onPath(name: string, path = process.env.PATH ?? '/usr/bin:/bin'): boolean {
  return path.split(':').some((dir) => {
    const file = join(dir || '.', name);
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

export async function readCrontab(): Promise<string> {
  // Without cron there is no crontab to read, and asking costs a fork of this process (about 500 page
  // faults, the most of a `hactl cron` that prints: issue 25).
  if (!onPath('crontab')) throw new ActionError('crontab -l: cannot run: no crontab program on PATH', NO_CRON);
  const r = await runProcess('crontab', ['-l'], { deadline: DEADLINE }).catch((e: Error) => {
    throw new ActionError(`crontab -l: cannot run: ${e.message}`, NO_CRON);
  });
  if (r.code === 0) return r.stdout;
  // "no crontab for USER": nothing installed yet, an empty crontab.
  if (r.code === 1 && /no crontab for/i.test(r.stderr)) return '';
  throw new ActionError(`crontab -l failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${r.stderr.trim()}`);
}

export async function writeCrontab(text: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-crontab-'));
  try {
    const file = join(dir, 'crontab');
    writeFileSync(file, text, { mode: 0o600 });
    const r = await runProcess('crontab', [file], { deadline: DEADLINE }).catch((e: Error) => {
      throw new ActionError(`crontab: cannot run: ${e.message}`, 'install cron (apt-get install cron)');
    });
    if (r.code !== 0) {
      throw new ActionError(
        `crontab refused the new crontab (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${r.stderr.trim()}`,
        'your crontab was left as it was',
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
