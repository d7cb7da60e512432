// What `hactl validate` says about a report, pure: the exit code, the lines,
// the summary and the --json document. Invalid files and warnings (files not
// read: FIFOs, links, devices) both exit 1; the summary counts each.
import { formatProblem, under, type Problem } from './problem.js';

const EXIT_OK = 0;
const EXIT_WARNING = 1;

export interface PathReport {
  files: number;
  bytes: number;
  invalid: string[];
  problems: Problem[];
  warnings: Problem[];
  ms: number;
  root: string;
  single: boolean;
}

export function validateResult(path: string, r: PathReport) {
  const prefix = r.single ? r.root : path;
  const full = (f: string) => under(prefix, f);
  const exitCode = r.invalid.length || r.warnings.length ? EXIT_WARNING : EXIT_OK;
  const warned = r.warnings.length ? `; ${r.warnings.length} not read (warnings)` : '';
  const summary = r.invalid.length
    ? `validate: ${r.invalid.length} of ${r.files} files invalid (${r.problems.length} problems) in ${path}${warned}`
    : `validate: ${r.files} file${r.files === 1 ? '' : 's'} valid in ${path}${warned}`;
  const shape = (p: Problem) => ({ file: full(p.file), line: p.line, col: p.col, message: p.message });
  const lines = [...r.problems, ...r.warnings].map((p) => formatProblem(p, prefix));
  const json = {
    command: 'validate',
    exitCode,
    summary,
    path,
    files: r.files,
    bytes: r.bytes,
    invalid: r.invalid.map(full),
    problems: r.problems.map(shape),
    warnings: r.warnings.map(shape),
    ms: r.ms,
  };
  return { exitCode, summary, lines, json };
}
