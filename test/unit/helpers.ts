// Unit tests exercise the built modules (scripts/test builds first): the
// config schema is compiled to dist/validators at build time.
import { parseConfig } from '../../dist/config/parse.js';
import { loadValidator } from '../../dist/validators.js';
import { stringify } from 'yaml';

export const BASE = {
  stateDir: '/tmp/hactl-unit-state',
  hosts: {
    pc1: { address: '192.0.2.1', user: 'claw', key: '/k', knownHosts: '/kh' },
    pc2: { address: '192.0.2.2', user: 'claw', key: '/k', knownHosts: '/kh' },
  },
  pair: { primary: 'pc1', standby: 'pc2' },
};

export async function config(overrides: Record<string, unknown> = {}): Promise<any> {
  const v = await loadValidator('hactl');
  return parseConfig(stringify({ ...BASE, ...overrides }), '/etc/hactl/hactl.yaml', v);
}

export async function parse(text: string, file = 'hactl.yaml'): Promise<any> {
  return parseConfig(text, file, await loadValidator('hactl'));
}
