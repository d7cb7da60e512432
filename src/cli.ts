// Commander wiring only: the program, its options, one lazily imported module per
// subcommand (so `hactl --version` and `--help` load almost nothing). Errors become
// exit codes in src/exit.ts.
import { Command, CommanderError, Option } from 'commander';
import { EXIT } from './errors.js';
import { failureOf } from './exit.js';
import { beginInvocation, ignoreClosedPipes, sink, writeEnvelope } from './output.js';
import { addHelpFooters } from './help.js';
import type { GlobalOptions } from './context.js';
import { VERSION } from './version.js';
export { configKeptThisRun } from './config/cache.js'; // bin/hactl's code cache asks it

type Action = (program: Command, cmd: Command, args: unknown[]) => Promise<number | void>;

function globalOpts(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

type Runner = (fn: () => Promise<number | void>, opts: GlobalOptions) => Promise<void>;

/**
 * The command a file of the bundle was built for (scripts/bundle.mjs defines it in dist/bundle/cmd-NAME.js,
 * which bin/hactl runs only for command NAME), else undefined (cli.js, tsc's dist/). There, only that
 * command is defined: commander builds every defined command's options and help text at each start.
 */
const ONLY: string | undefined = (globalThis as { HACTL_ONLY_COMMAND?: string }).HACTL_ONLY_COMMAND;
const wanted = (name: string): boolean => ONLY === undefined || ONLY === name;

export function buildProgram(run: Runner): Command {
  const program = new Command();
  program
    .name('hactl')
    .description('Keep an OpenClaw gateway alive across a primary, a standby and a witness.')
    .version(VERSION, '-V, --version')
    .configureOutput({
      writeErr: (s) => sink(2).write(s),
      writeOut: (s) => sink(1).write(s),
    })
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .option('-c, --config <file>', 'config file (default: $HACTL_CONFIG, ./hactl.yaml, /etc/hactl/hactl.yaml)')
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'only the one summary line (the default when stdout is not a terminal)')
    .option('--debug', 'show debug output and stack traces');

  const lazy = (load: () => Promise<{ default: Action }>) =>
    async function (this: Command, ...args: unknown[]) {
      const cmd = args[args.length - 1] as Command;
      const action = async () => (await load()).default(program, cmd, args.slice(0, -2));
      await run(action, globalOpts(cmd));
    };

  if (wanted('check'))
    program
      .command('check')
      .description('probe the primary and the standby over SSH, confirm failures once, record what was seen')
      // check --watch (issue 12): keep probing inside the cron window, hand a confirmed failure to failover --auto.
      .option('--watch', 'probe again every interval until the window is over; fail over as soon as it is confirmed')
      .option('--interval <duration>', 'with --watch: time between probes (default: thresholds.watchInterval, 30s)')
      .option('--window <duration>', 'with --watch: no probe starts after this (default: thresholds.watchWindow, 100s)')
      .action(lazy(() => import('./commands/check.js')));

  if (wanted('failover'))
    program
      .command('failover')
      .description('fence the primary, start the standby, verify, alert')
      .option('--auto', 'act only on fresh confirmed state, outside cooldown and under max attempts (for cron)')
      .option('-n, --dry-run', 'print the plan, change nothing')
      .option('-y, --yes', 'act without asking (by hand: a terminal asks to confirm the plan; no terminal needs --yes)')
      .action(lazy(() => import('./commands/failover.js')));

  if (wanted('failback'))
    program
      .command('failback')
      .description('sync back what the standby wrote, stop it, start and verify the primary, alert')
      .option('--auto', 'act only when the policy is auto and the primary has been back for thresholds.healthyFor')
      .option(
        '--from-dead-standby',
        'the primary serves again after the standby died: copy back its PostgreSQL rows, then resume replication',
      )
      .option('-n, --dry-run', 'print the plan, change nothing')
      .option('-y, --yes', 'act without asking (by hand: a terminal asks to confirm the plan; no terminal needs --yes)')
      .action(lazy(() => import('./commands/failback.js')));

  if (wanted('sync-memory'))
    program
      .command('sync-memory')
      .description(
        "copy the agents' memory to the host that does not serve, validated before it replaces the last good copy",
      )
      .option('-n, --dry-run', 'show what would be copied, change nothing')
      .option(
        '--allow-mass-delete',
        'accept a run that deletes more than memory.maxDeleteShare of the files (after a deliberate clean-up)',
      )
      .option(
        '--watch',
        'keep syncing inside the cron minute: scan for changes every memory.watchEvery, copy on change',
      )
      .option('--every <duration>', 'with --watch: time between scans (default: memory.watchEvery, 10s)')
      .option(
        '--window <duration>',
        'with --watch: no cycle starts after this (default: the cron cadence minus --every)',
      )
      .action(lazy(() => import('./commands/sync-memory.js')));

  if (wanted('validate'))
    program
      .command('validate')
      .description('check memory files: non-empty, YAML/JSON parse, required fields present')
      .argument('<path>', 'directory or file to validate')
      .action(lazy(() => import('./commands/validate.js')));

  if (wanted('backup-tier'))
    program
      .command('backup-tier')
      .description('run one hop of the tiered backup chain, or list snapshots')
      .argument('[name]', 'tier name from the config')
      .option('--list', 'list snapshots per tier with age, size and file count')
      .option('-n, --dry-run', 'show the plan, change nothing')
      .action(lazy(() => import('./commands/backup-tier.js')));

  if (wanted('restore'))
    program
      .command('restore')
      .description('bring files back from a snapshot (shows what it would do unless --yes)')
      .argument('<tier>', 'tier name')
      .argument('<snapshot>', "snapshot name, or 'latest'")
      .argument('[path]', 'path inside the snapshot', '.')
      .requiredOption('--to <dest>', 'where to put the files (local path)')
      .option('-y, --yes', 'act; without it, print what would be done')
      .action(lazy(() => import('./commands/restore.js')));

  // --- operator commands (issue 13): additive block ---
  if (wanted('cron'))
    program
      .command('cron')
      .description('print crontab lines for this config; --install/--remove merge them into your crontab')
      .option('--install', "merge hactl's marked block into the user's crontab (replaces an older block)")
      .option('--remove', "remove hactl's block from the crontab; other lines stay")
      .option('--logrotate', 'print a logrotate snippet for the log directory')
      .option('--systemd <dir>', 'write .service/.timer units into DIR instead (e.g. /etc/systemd/system)')
      .option('--log-dir <dir>', 'where the jobs append their logs (default /var/log/hactl; --install keeps it)')
      .option('--bin <path>', 'the hactl executable the jobs run (default: this one; --install keeps it)')
      .option('--env-file <file>', "NAME='value' lines (mode 0600) with the token and webhook URLs the jobs need")
      .action(lazy(() => import('./commands/cron.js')));
  if (wanted('pause'))
    program
      .command('pause')
      .description('skip automatic failover and failback for a while (default 1h, at most 7d)')
      .option('--for <duration>', 'how long, e.g. 30m, 2h, 1h30m')
      .option('--reason <text>', 'shown in status, history and the alert')
      .action(lazy(() => import('./commands/pause.js')));

  if (wanted('resume'))
    program
      .command('resume')
      .description('end a pause now')
      .action(lazy(() => import('./commands/resume.js')));

  if (wanted('alert'))
    program
      .command('alert')
      .description('list the alerts waiting in the outbox; --test each channel; --retry or --drop one')
      .option('--test', 'send one test message on every channel now and say how each went (exit 2 if any failed)')
      .option('--channel <name>', 'with --test: only this channel (telegram, discord, slack, webhook, or its id)')
      .option('--retry <id>', 'send a pending alert again, its failures forgotten')
      .option('--drop <id>', 'remove a pending alert for every channel')
      .action(lazy(() => import('./commands/alert.js')));

  if (wanted('init'))
    program
      .command('init')
      .description('write a starting config (default /etc/hactl/hactl.yaml), mode 0600')
      .argument('[file]', 'where to write it (default: --config, $HACTL_CONFIG, /etc/hactl/hactl.yaml)')
      .option('--force', 'replace an existing file (the old one is kept as FILE.bak-<time>)')
      .action(lazy(() => import('./commands/init.js')));
  // --- end operator commands ---
  // --- heartbeat and doctor (issue 13, items 4 and 8): additive block ---
  if (wanted('heartbeat'))
    program
      .command('heartbeat')
      .description("write this host's heartbeat file (from each gateway host's cron); check reads its age")
      .option('--path <file>', 'the file to write (default: heartbeat.path, else <gateway.runDir>/heartbeat)')
      .option('--host <name>', 'which configured host this is (its gateway.runDir), when a config is present')
      .action(lazy(() => import('./commands/heartbeat.js')));
  if (wanted('doctor'))
    program
      .command('doctor')
      .description('check the config, keys, known_hosts, SSH reach, remote commands and clocks; print each fix')
      .action(lazy(() => import('./commands/doctor.js')));
  // --- end heartbeat and doctor ---

  // --- status and history (issue 13 items 1-2): additive block ---
  if (wanted('status'))
    program
      .command('status')
      .description('where things stand, from the state files alone (no SSH); exit 1 when the witness is stale')
      .action(lazy(() => import('./commands/status.js')));
  if (wanted('history'))
    program
      .command('history')
      .description('past runs and their stats: failovers, failbacks, mean time to recover, start methods')
      .option('--since <when>', 'a duration back from now (e.g. 7d, 12h) or an ISO time')
      .option('--kind <kinds>', 'comma-separated: check, failover, failback, sync, backup, pause, restore, other')
      .option('--limit <n>', 'entries printed (newest), default 50; 0: stats only')
      .action(lazy(() => import('./commands/history.js')));
  // --- end status and history ---
  // --- partitions (issue 16): additive block ---
  if (wanted('guard'))
    program
      .command('guard')
      .description('on a gateway host: stop its own gateway when it holds no live serving permit from the witness')
      .option('--host <name>', 'this host, a name in pair (default: guard.self)')
      .option('--watch', 'run every guard.interval until the cron minute is over (60 s - interval)')
      .option('--window <duration>', 'with --watch: how long a run may still start (default 60 s - guard.interval)')
      .option('-n, --dry-run', 'say what it would do, change nothing')
      .action(lazy(() => import('./commands/guard.js')));
  // --- end partitions ---

  program.addOption(new Option('--no-color').hideHelp());
  addHelpFooters(program);
  return program;
}

/** The subcommand named on the command line (for the envelope of a usage error), else 'hactl'. */
function commandOf(program: Command, argv: string[]): string {
  const names = new Set(program.commands.map((c) => c.name()));
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--config') i++;
    else if (!a.startsWith('-')) return names.has(a) ? a : 'hactl';
  }
  return 'hactl';
}

/**
 * Runs one invocation. Under --json the envelope (src/output.ts, schema/output.schema.json) is
 * written here and only here, once, with the final exit code: for every command, its errors and
 * commander's usage errors alike; --help and --version print their text.
 */
export async function main(argv: string[]): Promise<void> {
  ignoreClosedPipes();
  let code: number = EXIT.OK;
  let debug = argv.includes('--debug');
  const json = argv.includes('--json');
  let error;
  let text = false; // --help / --version: their text is the output
  const run = async (fn: () => Promise<number | void>, opts: GlobalOptions) => {
    debug = !!opts.debug;
    code = (await fn()) ?? EXIT.OK;
  };
  const program = buildProgram(run);
  const command = commandOf(program, argv);
  beginInvocation(command, VERSION);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const f = failureOf(err, debug, json, command);
    ({ exitCode: code, error } = f);
    text = err instanceof CommanderError && err.exitCode === 0;
  }
  if (json && !text) writeEnvelope(code, error);
  process.exitCode = code;
}
