import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { InvalidRequestError } from '../../src/store/store-errors.js';
import {
  captureRequests,
  expectedSamples,
  selection,
  sumsByPath,
  tempDir,
  treeByPath,
} from './store-fixtures.js';

const CHILD = new URL('../support/store-child.ts', import.meta.url).pathname;

/** A serial job queue like the store's write queue. */
function serialSchedule(): (job: () => Promise<void>) => void {
  let tail = Promise.resolve();
  return (job) => {
    tail = tail.then(job);
  };
}

function profilesOf(
  request: ExportProfilesServiceRequest,
): ExportProfilesServiceRequest['resourceProfiles'][number]['scopeProfiles'][number]['profiles'] {
  return request.resourceProfiles.flatMap((rp) => rp.scopeProfiles.flatMap((sp) => sp.profiles));
}

describe('group commit', () => {
  it('submissions that arrive while a write runs share the next write, and each settles on its own outcome', async () => {
    const groups: number[][] = [];
    let release: () => void = () => undefined;
    const firstWriteHeld = new Promise<void>((resolve) => (release = resolve));
    const commit = new GroupCommit<number, string>(serialSchedule(), async (items) => {
      groups.push([...items]);
      if (groups.length === 1) await firstWriteHeld;
      if (items.includes(99)) throw new Error('the commit failed');
      return items.map((n) =>
        n % 2 === 0
          ? { status: 'fulfilled', value: `stored ${n}` }
          : { status: 'rejected', reason: new Error(`bad ${n}`) },
      );
    });
    const first = commit.submit(0);
    await new Promise((resolve) => setImmediate(resolve));
    // The first write is running (held): these wait and go together into the second.
    const waiting = [2, 3, 4].map((n) => commit.submit(n));
    assert.equal(commit.size, 3);
    release();
    const settled = await Promise.allSettled([first, ...waiting]);
    assert.deepEqual(groups, [[0], [2, 3, 4]]);
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
      ['stored 0', 'stored 2', 'bad 3', 'stored 4'],
    );
    // A write that throws fails its own group only.
    const failing = [commit.submit(98), commit.submit(99)];
    await assert.rejects(failing[0]!, /the commit failed/);
    await assert.rejects(failing[1]!, /the commit failed/);
    assert.equal(await commit.submit(6), 'stored 6');
  });

  it('concurrent ingests: a bad request is refused alone, a partly bad one stores its good profiles, the rest all', async () => {
    const dir = tempDir();
    const store = await openProfileStore(dir.path, { logger: silentLogger });
    try {
      const good = captureRequests(2);
      const partlyBad = captureRequests(2, 3_600_000_000_000n)[0]!;
      const badProfile = profilesOf(partlyBad)[1]!;
      badProfile.samples[0]!.stackIndex = 10_000;
      const bad = captureRequests(2, 7_200_000_000_000n)[1]!;
      bad.dictionary.locationTable[1]!.mappingIndex = 999;
      const all = [good[0]!, bad, ...good.slice(1, 3), partlyBad, ...good.slice(3)];
      const settled = await Promise.allSettled(all.map((r) => store.ingest(r)));

      const refused = settled[1]!;
      assert.equal(refused.status, 'rejected');
      assert.ok(refused.reason instanceof InvalidRequestError, String(refused.reason));
      assert.match((refused.reason as Error).message, /mapping_index: index 999 out of range/);
      const partial = settled[4]!;
      assert.equal(partial.status, 'fulfilled');
      assert.equal(partial.value.rejectedProfiles, 1);
      assert.match(partial.value.errorMessage ?? '', /stack_index/);
      for (const i of [0, 2, 3, 5, 6, 7, 8]) {
        const s = settled[i]!;
        assert.equal(
          s.status,
          'fulfilled',
          `request ${i}: ${s.status === 'rejected' ? String(s.reason) : ''}`,
        );
        assert.equal(s.value.rejectedProfiles, 0);
      }

      for (const rp of partlyBad.resourceProfiles)
        for (const sp of rp.scopeProfiles) sp.profiles = sp.profiles.filter((p) => p !== badProfile);
      const stored = [...good, partlyBad];
      const tree = await store.flameGraph(selection(), { maxNodes: 1_000_000 });
      assert.equal(tree.rootTotal, totalSampleValue(stored).toString());
      const expected = [...sumsByPath(expectedSamples(stored))].map(
        ([path, v]) => [path, Number(v)] as const,
      );
      assert.deepEqual(treeByPath(tree).self, new Map(expected));
    } finally {
      await store.close();
      dir.remove();
    }
  });

  it('kill -9 right after grouped ingests were acknowledged loses none of them', async () => {
    const dir = tempDir();
    try {
      const child: ChildProcess = spawn(
        process.execPath,
        ['--import', 'tsx', CHILD, 'ingest-groups', dir.path],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      let acknowledged = 0n;
      for (;;) {
        const line = await lines.next();
        assert.ok(!line.done, 'the child ended early');
        const [, n, total] = line.value.split(' ');
        acknowledged = BigInt(total!);
        if (Number(n) >= 20) break;
      }
      child.kill('SIGKILL');
      await new Promise((resolve) =>
        child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve),
      );
      assert.equal(child.signalCode, 'SIGKILL');
      const store = await openProfileStore(dir.path, { logger: silentLogger });
      try {
        const stored = BigInt((await store.flameGraph(selection())).rootTotal);
        // The child may have stored more after the line read last; never less.
        assert.ok(stored >= acknowledged, `stored ${stored}, acknowledged ${acknowledged}`);
      } finally {
        await store.close();
      }
    } finally {
      dir.remove();
    }
  });
});
