// The Telegram stand-in as a process of its own, for a partition lab node (test/lab/netns.ts):
//   node --import tsx test/lab/telegram-serve.ts ADDRESS PORT LOGFILE
// listens on ADDRESS:PORT, appends every message sent to LOGFILE as a JSON line, says "ready".
import { appendFileSync } from 'node:fs';
import { FakeTelegram } from './telegram.ts';

const [address, port, log] = process.argv.slice(2);
const tg = new FakeTelegram();
const push = tg.sent.push.bind(tg.sent);
tg.sent.push = (...items) => {
  for (const m of items) appendFileSync(log!, JSON.stringify(m) + '\n');
  return push(...items);
};
await tg.start(address, Number(port));
console.log('ready');
