/**
 * Counts the array emissions of a capture file before it is replayed, so the replay timeline can
 * end at "now": the lines that start with `[` at column 0 (a `-o json` line, `[]`, or the opening
 * line of a `-o jsonpretty` array, whose inner lines are indented). Streams the file; never parses.
 */
import { createReadStream } from 'node:fs';

const OPEN_BRACKET = 0x5b;
const NEWLINE = 0x0a;

export async function countArrayEmissions(path: string): Promise<number> {
  let count = 0;
  let atLineStart = true;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    if (chunk.length === 0) continue;
    if (atLineStart && chunk[0] === OPEN_BRACKET) count++;
    let i = chunk.indexOf(NEWLINE);
    while (i !== -1) {
      if (i + 1 < chunk.length && chunk[i + 1] === OPEN_BRACKET) count++;
      i = chunk.indexOf(NEWLINE, i + 1);
    }
    atLineStart = chunk[chunk.length - 1] === NEWLINE;
  }
  return count;
}
