// hactl init, the pure part: the starting config is the shipped example with
// its schema line pointing at the installed schema by absolute path, so the
// editor still finds it after the file is copied anywhere (the example's
// relative ./schema/... only works next to the repository).

export const MODELINE = /^# yaml-language-server: \$schema=.*$/m;

/** Pure: example text + absolute schema path (or URL) -> the config to write. */
export function starterConfig(example: string, schemaRef: string): string {
  if (/[\n\r]/.test(schemaRef)) throw new Error('the schema path must be one line');
  const line = `# yaml-language-server: $schema=${schemaRef}`;
  return MODELINE.test(example) ? example.replace(MODELINE, () => line) : `${line}\n${example}`;
}
