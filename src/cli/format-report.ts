import type { DeliveryReport } from '../exporter/delivery/exporter.js';
import type { Counters } from '../observability/counters.js';
import { LossLedger } from '../observability/loss-ledger.js';

/**
 * The end-of-run summary on stderr: what was read, what each exporter delivered, and every drop
 * with its reason, so nothing is lost silently. Drops come from the loss ledger (the exporters'
 * `dropped` is read from it too), as does the exit status.
 */
export function formatReport(counters: Counters, reports: ReadonlyMap<string, DeliveryReport>): string {
  const lines: string[] = [];
  const n = (name: string): number => counters.total(name);
  lines.push(
    `input: ${n('rows_read')} rows in ${n('json_values_read') + n('grpc_events') + n('relay_requests')} emissions` +
      (n('json_values_malformed') ? `, ${n('json_values_malformed')} malformed value(s) skipped` : '') +
      (n('rows_without_frames')
        ? `, ${n('rows_without_frames')} row(s) without frames kept as placeholders`
        : '') +
      (n('grpc_fetches_lost') ? `, ${n('grpc_fetches_lost')} fetch(es) lost upstream (seq gaps)` : ''),
  );
  if (n('grpc_reconnects')) lines.push(connectionLine(counters));
  if (n('checkpoint_write_failures'))
    lines.push(
      `  checkpoint: ${n('checkpoint_write_failures')} write(s) failed; a restart reads again from the last checkpoint written`,
    );
  for (const loss of new LossLedger(counters).losses()) {
    // Requests refused at the input (relay's receivers), before any exporter.
    if (loss.exporter === undefined && loss.counts.requests)
      lines.push(`  requests refused (${loss.reason}): ${loss.counts.requests}`);
    if (loss.counts.rows === undefined) continue;
    lines.push(
      `  rows dropped (${loss.reason}${loss.exporter !== undefined ? `, ${loss.exporter}` : ''}): ${loss.counts.rows}`,
    );
  }
  for (const [name, r] of reports) {
    lines.push(
      `exporter ${name}: delivered ${r.delivered.requests} request(s), ${r.delivered.profiles} profile(s), ${r.delivered.samples} sample(s)` +
        (r.rejectedByBackend ? `; backend rejected ${r.rejectedByBackend} profile(s)` : ''),
    );
    for (const [reason, d] of Object.entries(r.dropped)) {
      lines.push(
        `  dropped (${reason}): ${d.requests} request(s), ${d.profiles} profile(s), ${d.samples} sample(s)`,
      );
    }
    // Worth a line once batches had to wait: what `queue.max_size` must hold through an outage.
    if (r.queuePeak.requests > 1) {
      lines.push(
        `  queue high-water mark: ${r.queuePeak.requests} request(s), ${r.queuePeak.bytes} bytes (waiting and in flight)`,
      );
    }
    if (r.pendingOnDisk.requests > 0) {
      lines.push(
        `  pending in the persistent queue: ${r.pendingOnDisk.requests} request(s), ${r.pendingOnDisk.bytes} bytes (sent on next start)`,
      );
    }
  }
  return lines.join('\n');
}

/** The gaps in IG's stream (grpc-row-source.ts): how often, how long, and whether data was lost. */
function connectionLine(counters: Counters): string {
  const gaps = counters.snapshot().filter((s) => s.name === 'grpc_input_gaps');
  const lost = gaps.reduce((a, s) => a + s.value, 0);
  const down = (counters.total('grpc_disconnected_ms') / 1000).toFixed(1);
  return (
    `  IG connection: lost ${counters.total('grpc_reconnects')} time(s), ${down} s without a stream; ` +
    (lost > 0
      ? `${lost} gap(s) where data was lost (${gaps.map((s) => `${s.labels.reason ?? 'unknown'}: ${s.value}`).join(', ')})`
      : 'nothing lost (the instance replay covered it)')
  );
}
