// What the validator reports, and how a problem is written: `file:line:col: message`,
// or `file: warning: message` for what was named but not read. Pure.

export interface Problem {
  file: string; // relative to the validated root, '/'-separated
  line: number;
  col: number;
  message: string;
  warning?: boolean; // named in the report, but not invalid (e.g. a FIFO: never opened)
}
export type FileProblem = Omit<Problem, 'file'>;

/** `dir/file` as path.join would write it for the usual prefixes ('.', './x', 'x/'), without node:path. */
export function under(prefix: string, file: string): string {
  const dir = prefix.replace(/^(?:\.\/+)+/, '').replace(/\/+$/, '');
  return dir === '' || dir === '.' ? file : `${dir}/${file}`;
}

export function formatProblem(p: Problem, prefix = ''): string {
  const file = under(prefix, p.file);
  return p.warning ? `${file}: warning: ${p.message}` : `${file}:${p.line}:${p.col}: ${p.message}`;
}
