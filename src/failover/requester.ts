// Who asked for a failover or failback: cron with --auto, or a person (user@witness).
import { hostname, userInfo } from 'node:os';
import type { GlobalOptions } from '../context.js';
import type { Requester } from '../core/model.js';

export function requester(opts: GlobalOptions): Requester {
  if (opts.auto) return { auto: true, who: `hactl --auto on ${hostname()}` };
  let user = process.env.SUDO_USER || process.env.USER || '';
  try {
    user ||= userInfo().username;
  } catch {
    user ||= 'unknown user';
  }
  return { auto: false, who: `${user}@${hostname()}` };
}
