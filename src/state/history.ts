// history.jsonl: one JSON line per run. Appends from runs that hold different command locks
// are serialized by a short section, inside which the remnant of a writer killed mid-line (a
// line longer than a page; see appendLine) is cut back before the next line goes on.
import { appendLine, cutPartialTail } from './files.js';
import { withFileLock } from './lock.js';

export async function appendHistory(file: string, data: unknown): Promise<void> {
  await withFileLock(
    file,
    async () => {
      cutPartialTail(file);
      appendLine(file, data);
    },
    30_000,
  );
}
