// What every subcommand's --help ends with: the exit codes and an example. Added to every
// command of the program in one loop (src/cli.ts), so a new command has them too; a command
// without an example of its own here gets a generic one.
import type { Command } from 'commander';

export const EXIT_CODES_HELP = `Exit codes:
  0   ok                                  64  usage (unknown option, missing argument)
  1   warning, degraded or invalid files  66  input path missing
  2   critical, or the action failed      75  another run holds the lock
  3   unknown (a host hactl cannot judge) 78  configuration error
With --json: one document on stdout, {command, version, ok, exitCode, summary, ...data, error?}
(schema/output.schema.json), errors and usage errors included.`;

const EXAMPLES: Record<string, string[]> = {
  check: ['hactl check', 'hactl check --json | jq .hosts'],
  failover: [
    'hactl failover --dry-run      # the plan, nothing changed',
    'hactl failover                # in a terminal: the plan, then y/N',
    'hactl failover --yes          # by hand, no questions (scripts, ssh without a terminal)',
  ],
  failback: ['hactl failback --dry-run', 'hactl failback              # shows the plan and asks (y/N) in a terminal'],
  'sync-memory': ['hactl sync-memory --dry-run'],
  validate: ['hactl validate /var/lib/openclaw/agents'],
  'backup-tier': ['hactl backup-tier --list', 'hactl backup-tier daily'],
  restore: [
    'hactl restore daily latest agents/joe --to /tmp/joe          # what it would copy',
    'hactl restore daily latest agents/joe --to /tmp/joe --yes',
  ],
  cron: ['hactl cron              # print the lines', 'hactl cron --install    # merge them into your crontab'],
  pause: ['hactl pause --for 2h --reason "disk swap on pc-a"'],
  resume: ['hactl resume'],
  alert: [
    'hactl alert                   # what waits in the outbox',
    'hactl alert --test --channel telegram',
    'hactl alert --drop 3f2a9c1b7e0d',
  ],
  init: ['hactl init /etc/hactl/hactl.yaml'],
};

export function addHelpFooters(program: Command): void {
  for (const cmd of program.commands) {
    const name = cmd.name();
    const examples = EXAMPLES[name] ?? [`hactl ${name} --json`];
    const title = examples.length > 1 ? 'Examples' : 'Example';
    const lines = examples.map((e) => `  $ ${e}`).join('\n');
    cmd.addHelpText('after', `\n${title}:\n${lines}\n\n${EXIT_CODES_HELP}\n`);
  }
  program.addHelpText('after', `\n${EXIT_CODES_HELP}\n`);
}
