// The line --dry-run prints for each step of a plan, with its reason: pure.
import type { Config, Role } from '../config/types.js';
import type { Step } from '../core/model.js';
import { label } from '../core/model.js';
import { describePgStep } from '../postgres/plan.js';

export function describeStep(config: Config, s: Step): string {
  const h = (r: Role) => label(config, r);
  const line = ((): string => {
    switch (s.op) {
      case 'preflight':
        return `preflight ${h(s.role)}: the host answers and can start a gateway`;
      case 'fence':
        return `fence ${h(s.role)}: stop its gateway process, whatever its HTTP answer, and verify it is gone`;
      case 'sync-last-chance':
        return `last-chance memory sync ${h(s.from)} -> ${h(s.to)}`;
      case 'sync-back':
        return `sync back memory the standby wrote: ${h(s.from)} -> ${h(s.to)} (--update; conflicts kept)`;
      case 'stop':
        return `stop the gateway on ${h(s.role)} and verify it is gone`;
      case 'settle':
        return s.role
          ? `wait until the gateway on ${h(s.role)} is gone and its port free (at most ${s.seconds} s)`
          : `wait ${s.seconds} s`;
      case 'start':
        return `start the gateway on ${h(s.role)}: try ${s.methods.join(', then ')}`;
      case 'verify':
        return `verify ${h(s.role)} passes the health probe`;
      case 'record':
        return `record ${h(s.serving)} as serving`;
      case 'postgres':
        return describePgStep(s.action);
    }
  })();
  const fail = { abort: '', rollback: '; on failure: roll back', continue: '; a failure does not stop the plan' }[
    s.onFail
  ];
  return `${line} (${s.reason}${fail})`;
}
