import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExporterTransport } from '../../../src/exporter/exporter-transport.js';
import {
  guardTimeouts,
  SEND_GUARD_GRACE_MS,
  SHUTDOWN_GRACE_MS,
} from '../../../src/exporter/delivery/timeout-guard.js';
import {
  fakeBatch,
  recordingLogger,
  ScriptedTransport,
  SUCCESS,
  VirtualClock,
} from '../../support/delivery-fakes.js';

describe('timeout guard', () => {
  it('answers retryable for a send that never answers, once its timeout and the grace passed', async () => {
    const clock = new VirtualClock();
    const inner = new ScriptedTransport(() => 'hang', clock);
    const guarded = guardTimeouts(inner, { clock, logger: recordingLogger().logger });
    const started = clock.now();
    const response = await guarded.send(fakeBatch('slow'), 250);
    assert.equal(clock.now() - started, 250 + SEND_GUARD_GRACE_MS);
    assert.ok(response.status === 'retryable');
    assert.equal(
      response.error.message,
      `scripted-fake 127.0.0.1:0 did not answer within ${250 + SEND_GUARD_GRACE_MS} ms`,
    );
    assert.equal(guarded.description, inner.description);
  });

  it('passes answers through and leaves no timer behind', async () => {
    const clock = new VirtualClock();
    const guarded = guardTimeouts(new ScriptedTransport(() => SUCCESS, clock), {
      clock,
      logger: recordingLogger().logger,
    });
    assert.deepEqual(await guarded.send(fakeBatch('ok'), 1_000), SUCCESS);
    assert.equal(clock.pendingTimers, 0);
  });

  it('turns a send that throws or rejects into a retryable answer', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const throwing: ExporterTransport = {
      description: 'throwing',
      send: () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return Promise.reject(new Error('socket hang up'));
      },
      shutdown: () => Promise.resolve(),
    };
    const guarded = guardTimeouts(throwing, { clock, logger: recordingLogger().logger });
    const thrown = await guarded.send(fakeBatch('a'), 0);
    const rejected = await guarded.send(fakeBatch('b'), 0);
    assert.ok(thrown.status === 'retryable' && rejected.status === 'retryable');
    assert.equal(thrown.error.message, 'boom');
    assert.equal(rejected.error.message, 'socket hang up');
  });

  it('never lets shutdown reject or hang past its grace, and says which happened', async () => {
    const { logger, lines } = recordingLogger();
    const failing = guardTimeouts(
      {
        description: 'broken',
        send: () => Promise.resolve(SUCCESS),
        shutdown: () => Promise.reject(new Error('EPIPE')),
      },
      { logger },
    );
    await failing.shutdown();
    assert.ok(lines.some((l) => / WARN .*shutting down broken failed: EPIPE/.test(l)));

    const hanging = guardTimeouts(
      {
        description: 'stuck',
        send: () => Promise.resolve(SUCCESS),
        shutdown: () => new Promise<void>(() => undefined),
      },
      { logger },
    );
    // The grace timer never holds the process open (the session's keep-alive does): hold it here.
    const keepAlive = setInterval(() => undefined, 1_000);
    try {
      await hanging.shutdown();
    } finally {
      clearInterval(keepAlive);
    }
    assert.ok(
      lines.some((l) => new RegExp(` WARN .*stuck did not shut down within ${SHUTDOWN_GRACE_MS} ms`).test(l)),
    );
  });
});
