// The user's crontab, through the system's own `crontab` program (it checks the
// syntax, takes cron's locks and tells the daemon). Read with `crontab -l`;
// written with `crontab FILE` from a 0600 file in a private temporary folder,
// which needs no stdin pipe and so uses runProcess as it is.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from './process.js';
import { ActionError } from '../errors.js';

const DEADLINE = 15; // s: crontab is local and quick; a hung one must not hang hactl

export async function readCrontab(): Promise<string> {
  const r = await runProcess('crontab', ['-l'], { deadline: DEADLINE }).catch((e: Error) => {
    throw new ActionError(
      `crontab -l: cannot run: ${e.message}`,
      'install cron (apt-get install cron) or use hactl cron --systemd DIR',
    );
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
