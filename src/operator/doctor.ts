import type { GlobalOptions } from '../context.js';
export async function runDoctor(_opts: GlobalOptions): Promise<number> {
  return 0;
}
