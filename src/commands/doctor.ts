// hactl doctor: see src/operator/doctor.ts.
import type { Command } from 'commander';
import type { GlobalOptions } from '../context.js';

export default async function doctor(_p: Command, cmd: Command): Promise<number> {
  const { runDoctor } = await import('../operator/doctor.js');
  return runDoctor(cmd.optsWithGlobals() as GlobalOptions);
}
