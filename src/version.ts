// hactl's version, a constant so that `hactl --version` reads no file and loads no module
// (bin/hactl answers it before the CLI loads; issue 12 #6). test/unit/version.test.ts keeps it
// equal to package.json's.
export const VERSION = '0.1.0';
