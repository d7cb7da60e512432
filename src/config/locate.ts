// Where an ajv error points in the YAML: the node of its instancePath, the offending key
// of an extra property, or the nearest existing parent; and the value found there. Pure.
import { isMap, isPair, isScalar, type Document, type Node as YamlNode } from 'yaml';
import type { AjvError } from '../validators.js';
import { secretAt } from './secret-path.js';

export function segments(instancePath: string): string[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Located = Pick<AjvError, 'instancePath'> & Partial<AjvError>;

export function offsetOf(doc: Document, err: Located): number | undefined {
  const segs = segments(err.instancePath);
  const node = (segs.length ? doc.getIn(segs, true) : doc.contents) as YamlNode | undefined;
  // Point at the offending key of an extra property, not at its map.
  if (err.keyword === 'additionalProperties' && isMap(node)) {
    const extra = err.params?.additionalProperty;
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === extra);
    if (pair && isScalar(pair.key)) return pair.key.range?.[0];
  }
  if (node && 'range' in node && node.range) return node.range[0];
  // The path may not exist (a required key): walk up to the nearest existing node.
  for (let i = segs.length - 1; i >= 0; i--) {
    const up = doc.getIn(segs.slice(0, i), true) as YamlNode | undefined;
    if (up && 'range' in up && up.range) return up.range[0];
  }
  return undefined;
}

/**
 * " (found 70000)" for a scalar at the error's path; "" for maps, lists and absent keys, and
 * for a value that may hold a secret (secretAt): the line names the key, never the value.
 */
export function valueFound(doc: Document, err: AjvError): string {
  if (['required', 'additionalProperties', 'oneOf'].includes(err.keyword)) return '';
  const segs = segments(err.instancePath);
  const v = doc.getIn(segs);
  if (v === undefined || (typeof v === 'object' && v !== null)) return '';
  if (secretAt(segs, v)) return ' (value not shown: it may hold a secret)';
  if (typeof v === 'number' && !Number.isFinite(v)) return ` (found ${String(v)})`;
  const shown = JSON.stringify(v);
  return ` (found ${shown.length > 80 ? `${shown.slice(0, 77)}..."` : shown})`;
}
