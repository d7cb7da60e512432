// "did you mean 'cooldown'?": the keys a config map may hold at a path, read from the JSON
// Schema (properties, through $ref and oneOf/anyOf/allOf branches), and the nearest of them
// to a mistyped key. Pure: the schema is passed in.

type Schema = Record<string, unknown>;

function resolveRef(root: Schema, s: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 10 && typeof cur.$ref === 'string' && cur.$ref.startsWith('#/'); i++) {
    let next: unknown = root;
    for (const part of cur.$ref.slice(2).split('/')) next = (next as Schema | undefined)?.[part];
    if (!next || typeof next !== 'object') return cur;
    cur = next as Schema;
  }
  return cur;
}

/** The schemas that may apply at a node: the node itself and its combinator branches. */
function expand(root: Schema, s: Schema, depth = 0): Schema[] {
  const r = resolveRef(root, s);
  const out = [r];
  if (depth > 5) return out;
  for (const k of ['oneOf', 'anyOf', 'allOf']) {
    const list = r[k];
    if (Array.isArray(list))
      for (const b of list) if (b && typeof b === 'object') out.push(...expand(root, b, depth + 1));
  }
  return out;
}

/** The property names the schema allows in the map at `segs` (none known: []). */
export function keysAt(root: Schema, segs: string[]): string[] {
  let nodes = expand(root, root);
  for (const seg of segs) {
    const next: Schema[] = [];
    for (const n of nodes) {
      const props = n.properties as Record<string, Schema> | undefined;
      if (props && Object.hasOwn(props, seg)) next.push(...expand(root, props[seg]!));
      else if (/^\d+$/.test(seg) && n.items && typeof n.items === 'object')
        next.push(...expand(root, n.items as Schema));
      else if (n.additionalProperties && typeof n.additionalProperties === 'object')
        next.push(...expand(root, n.additionalProperties as Schema));
      else if (n.patternProperties && typeof n.patternProperties === 'object')
        for (const p of Object.values(n.patternProperties as Record<string, Schema>)) next.push(...expand(root, p));
    }
    nodes = next;
    if (!nodes.length) return [];
  }
  const keys = new Set<string>();
  for (const n of nodes) for (const k of Object.keys((n.properties as Schema | undefined) ?? {})) keys.add(k);
  return [...keys];
}

/** Optimal string alignment distance (a swap of two neighbours counts one). */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/** The allowed key nearest to `key` (case ignored), if it is close enough to be a typo. */
export function nearestKey(key: string, allowed: string[]): string | undefined {
  if (key.length > 64) return undefined;
  const k = key.toLowerCase();
  let best: { key: string; d: number } | undefined;
  for (const a of allowed) {
    if (a === key) continue;
    const d = distance(k, a.toLowerCase());
    if (!best || d < best.d) best = { key: a, d };
  }
  if (!best) return undefined;
  return best.d <= Math.max(1, Math.floor(Math.min(key.length, best.key.length) / 3)) ? best.key : undefined;
}
