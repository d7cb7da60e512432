// The user's crontab, through the system's own `crontab` program (it checks the
// syntax, takes cron's locks and tells the daemon). Read with `crontab -l`;
// written with `crontab FILE` from a 0600 file in a private temporary folder,
// which needs no stdin pipe. Both through runProcessSync: crontab is short and starts nothing of its own.
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { runProcessSync, type ProcessResult } from './process.js';
import { ActionError } from '../errors.js';

const DEADLINE = 15; // s: crontab is local and quick; a hung one must not hang hactl
/** What `crontab` may print (a crontab is a few kB; cron itself refuses big ones). */
const CRONTAB_CAP = 1 << 20;

const NO_CRON = 'install cron (apt-get install cron) or use hactl cron --systemd DIR';

/**
 * Whether `name` is an executable file in a directory of $PATH, as execvp finds it (an empty entry: the
 * working directory; no PATH: its default).
 */
export function onPath(name: string, path = process.env.PATH ?? '/usr/bin:/bin'): boolean {
  return whichFile(name, path) !== undefined;
}

/** The file execvp would run for `name`, with its stat, or undefined. */
function whichFile(name: string, path = process.env.PATH ?? '/usr/bin:/bin'): { file: string; st: Stats } | undefined {
  for (const dir of path.split(':')) {
    const file = join(dir || '.', name);
    try {
      accessSync(file, constants.X_OK);
      const st = statSync(file);
      if (st.isFile()) return { file, st };
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export async function readCrontab(): Promise<string> {
  // Without cron there is no crontab to read, and asking costs a fork of this process (about 500 page
  // faults, the most of a `hactl cron` that prints: issue 25).
  if (!onPath('crontab')) throw new ActionError('crontab -l: cannot run: no crontab program on PATH', NO_CRON);
  let r: ProcessResult;
  try {
    r = runProcessSync('crontab', ['-l'], { deadline: DEADLINE, cap: CRONTAB_CAP });
  } catch (e) {
    throw new ActionError(`crontab -l: cannot run: ${(e as Error).message}`, NO_CRON);
  }
  if (r.code === 0) return r.stdout;
  // "no crontab for USER": nothing installed yet, an empty crontab.
  if (r.code === 1 && /no crontab for/i.test(r.stderr)) return '';
  throw new ActionError(`crontab -l failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${r.stderr.trim()}`);
}

/** Debian's cron keeps each user's crontab here: a directory only root and the group crontab may enter. */
export const SPOOL = '/var/spool/cron/crontabs';

/**
 * The crontab, to read hactl's block in it (`hactl cron` printing, --logrotate), never to write it back:
 * straight from cron's spool file when the `crontab` on PATH is the one that keeps it there (setgid to the
 * spool directory's group, as Debian's is) and this user may read it (root), which saves a fork of this
 * process and an exec (issue 25); else `crontab -l`. The spool file starts with cron's own three-line
 * header, which `crontab -l` leaves out: comments outside hactl's block. --install and --remove merge
 * and write, and read with `crontab -l` always.
 */
export async function peekCrontab(spool = SPOOL, user = userInfo().username): Promise<string> {
  const prog = whichFile('crontab');
  if (prog && prog.st.mode & 0o2000) {
    let fd: number | undefined;
    try {
      const dir = statSync(spool);
      if (dir.isDirectory() && dir.gid === prog.st.gid) {
        // Not a link, and never a wait on a FIFO planted there (O_NONBLOCK; fstat then refuses it).
        fd = openSync(join(spool, user), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        const st = fstatSync(fd);
        if (st.isFile() && st.uid === userInfo().uid && st.size <= CRONTAB_CAP) return readFileSync(fd, 'utf8');
      }
    } catch (e) {
      // No file in a spool this user may enter: no crontab. Anything else (no access): ask crontab -l.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && fd === undefined && canEnter(spool)) return '';
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return readCrontab();
}

/** Whether this user may look up names in `dir` (root may; others need its x bit). */
function canEnter(dir: string): boolean {
  try {
    accessSync(dir, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function writeCrontab(text: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-crontab-'));
  try {
    const file = join(dir, 'crontab');
    writeFileSync(file, text, { mode: 0o600 });
    let r: ProcessResult;
    try {
      r = runProcessSync('crontab', [file], { deadline: DEADLINE, cap: CRONTAB_CAP });
    } catch (e) {
      throw new ActionError(`crontab: cannot run: ${(e as Error).message}`, 'install cron (apt-get install cron)');
    }
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
