import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandDisplayName, stderrLevel } from '../../../src/gadget-bridge/json/command-input.js';
import { collect, exampleLines, harness, waitFor } from '../../support/json-input-fixtures.js';

const lines = exampleLines();
const node = (script: string): { kind: 'command'; argv: string[] } => ({
  kind: 'command',
  argv: [process.execPath, '-e', script],
});

describe('JSON row source: child process', () => {
  it('reads the child stdout and forwards stderr lines with mapped levels', async () => {
    const script = `
      process.stderr.write('time="2025-08-21T10:00:00Z" level=warning msg="kernel too old"\\n');
      process.stderr.write('ERRO[0000] failed to attach\\n');
      process.stderr.write('plain progress line\\n');
      process.stdout.write(${JSON.stringify(lines[0])} + '\\n[]\\n' + ${JSON.stringify(lines[2])} + '\\n');
    `;
    const h = harness({ input: node(script) });
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.deepEqual(
      batches.map((b) => [b.origin, b.rows.length]),
      [
        ['node:1', 4],
        ['node:3', 2],
      ],
    );
    const find = (text: string): string | undefined =>
      h.logger.lines.find((l) => l.message.includes(text))?.level;
    assert.equal(find('kernel too old'), 'warn');
    assert.equal(find('failed to attach'), 'error');
    assert.equal(find('plain progress line'), 'info');
  });

  it('delivers everything, then fails naming the command and its exit code', async () => {
    const h = harness({
      input: node(`process.stdout.write(${JSON.stringify(lines[0])} + '\\n'); process.exitCode = 3;`),
    });
    const { batches, error } = await collect(h.source);
    assert.equal(batches.length, 1);
    assert.ok(error);
    assert.match(error.message, /exited with code 3/);
    assert.ok(error.message.includes(process.execPath), error.message);
  });

  it('reports a child killed by a signal it was not sent by us', async () => {
    const h = harness({
      input: node(`process.stdout.write('[{"a":1}]\\n', () => process.kill(process.pid, 'SIGKILL'));`),
    });
    const { batches, error } = await collect(h.source);
    assert.equal(batches.length, 1);
    assert.match(error?.message ?? '', /killed by signal SIGKILL/);
  });

  it('stop() sends SIGINT and delivers the array the child flushes on SIGINT', async () => {
    const script = `
      process.on('SIGINT', () => process.stdout.write(${JSON.stringify(lines[4])} + '\\n', () => process.exit(0)));
      setInterval(() => {}, 1000);
      process.stderr.write('ready\\n');
    `;
    const h = harness({ input: node(script) });
    const done = collect(h.source);
    await waitFor(
      () => h.logger.lines.some((l) => l.message.endsWith('ready')),
      10_000,
      'the child to start',
    );
    await h.source.stop();
    const { batches, error } = await done;
    assert.equal(error, undefined);
    assert.equal(batches.length, 1);
    assert.equal(batches[0]!.rows.length, 2);
  });

  it('escalates to SIGTERM when the child ignores SIGINT', async () => {
    const script = `process.on('SIGINT', () => {}); setInterval(() => {}, 1000); process.stderr.write('ready\\n');`;
    const h = harness({ input: node(script), stopGraceMs: 100 });
    const done = collect(h.source);
    await waitFor(
      () => h.logger.lines.some((l) => l.message.endsWith('ready')),
      10_000,
      'the child to start',
    );
    await h.source.stop();
    const { error } = await done;
    assert.equal(error, undefined);
    assert.ok(h.logger.lines.some((l) => l.level === 'warn' && l.message.includes('sending SIGTERM')));
  });

  it('fails with an actionable message when the command does not exist', async () => {
    const h = harness({ input: { kind: 'command', argv: ['igop-no-such-command-xyz', 'run'] } });
    const { batches, error } = await collect(h.source);
    assert.equal(batches.length, 0);
    assert.match(error?.message ?? '', /cannot run "igop-no-such-command-xyz".*PATH/);
  });

  it('names commands by the words before the first flag and maps log levels', () => {
    assert.equal(
      commandDisplayName(['/usr/local/bin/ig', 'run', 'profile_cpu', '--collect-ustack', '-o', 'json']),
      'ig run profile_cpu',
    );
    assert.equal(
      commandDisplayName(['kubectl', 'gadget', 'run', 'profile_cpu', '-A']),
      'kubectl gadget run profile_cpu',
    );
    assert.equal(stderrLevel('WARN[0003] something'), 'warn');
    assert.equal(stderrLevel('time="x" level=error msg="y"'), 'error');
    assert.equal(stderrLevel('time="x" level=info msg="warning: not really"'), 'info');
  });
});
