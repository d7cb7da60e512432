// The part of js-yaml 4 that the validator uses (the package ships no types).
declare module 'js-yaml' {
  export interface LoadOptions {
    schema?: unknown;
    json?: boolean;
  }
  export const CORE_SCHEMA: unknown;
  export function load(text: string, opts?: LoadOptions): unknown;
  export function loadAll(text: string, iterator?: null, opts?: LoadOptions): unknown[];
}
