// hactl validate: not built yet.
import type { Command } from 'commander';
import { HactlError, EXIT } from '../errors.js';

export default async function notYet(_p: Command, _cmd: Command): Promise<number> {
  throw new HactlError('hactl validate is not implemented yet', EXIT.UNKNOWN);
}
