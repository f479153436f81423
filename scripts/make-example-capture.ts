// Regenerates examples/profile_cpu-capture.jsonl, the capture the embedded default (`npm start`) replays.
import { writeFileSync } from 'node:fs';
import { EXAMPLE_SHAPE, generateCaptureLines } from '../bench/synthetic-capture.js';

const out = new URL('../examples/profile_cpu-capture.jsonl', import.meta.url);
const lines = [...generateCaptureLines(EXAMPLE_SHAPE)];
// Like a real `ig run`, some fetches come back empty.
lines.splice(3, 0, '[]');
writeFileSync(out, lines.join('\n') + '\n');
console.log(`wrote ${out.pathname}: ${lines.length} fetches`);
