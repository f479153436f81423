import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { StoreDirectoryError, StoreLockedError } from '../../src/store/store-errors.js';
import { LOCK_FILE } from '../../src/store/store-lock.js';
import { DATABASE_FILE } from '../../src/store/store-schema.js';
import { captureRequests, selection, tempDir } from './store-fixtures.js';

const CHILD = new URL('../support/store-child.ts', import.meta.url).pathname;

function startChild(mode: string, dir: string): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { child, lines };
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const r = await lines.next();
  assert.ok(!r.done, 'the child ended early');
  return r.value;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );
}

describe('store durability and exclusivity', () => {
  it('kill -9 right after an ingest resolved loses nothing acknowledged and leaves no partial request', async () => {
    const dir = tempDir();
    try {
      const { child, lines } = startChild('ingest', dir.path);
      const acknowledged: bigint[] = [];
      for (;;) {
        const [, n, total] = (await nextLine(lines)).split(' ');
        acknowledged[Number(n)] = BigInt(total!);
        if (Number(n) === 9) break;
      }
      child.kill('SIGKILL');
      await exited(child);
      assert.equal(child.signalCode, 'SIGKILL');
      // The lock file names a dead process now: the next open takes it over.
      assert.ok(existsSync(join(dir.path, LOCK_FILE)));
      const store = await openProfileStore(dir.path, { logger: silentLogger });
      try {
        const total = BigInt((await store.flameGraph(selection())).rootTotal);
        // Everything acknowledged is there; at most the request in flight at the kill was also committed, whole.
        const perRequest = captureRequests(2).map((r) =>
          r.resourceProfiles
            .flatMap((rp) => rp.scopeProfiles.flatMap((sp) => sp.profiles))
            .flatMap((p) => p.samples)
            .reduce((a, s) => a + s.values.reduce((x, y) => x + y, 0n), 0n),
        );
        const ninth = acknowledged[9]!;
        const tenth = ninth + perRequest[9 % perRequest.length]!;
        assert.ok(total === ninth || total === tenth, `stored ${total}, acknowledged ${ninth}`);
        // Ids continue: a new ingest after the restart resolves against the reloaded dictionary.
        const before = (await store.flameGraph(selection())).name.length;
        await store.ingest(captureRequests(2)[0]!);
        assert.equal(
          (await store.flameGraph(selection())).name.length,
          before,
          'no new nodes for known stacks',
        );
      } finally {
        await store.close();
      }
    } finally {
      dir.remove();
    }
  });

  it('a second process on the same directory is refused, naming the holder and the directory', async () => {
    const dir = tempDir();
    try {
      const holder = startChild('hold', dir.path);
      const [, pid] = (await nextLine(holder.lines)).split(' ');
      try {
        const second = spawnSync(process.execPath, ['--import', 'tsx', CHILD, 'open', dir.path], {
          encoding: 'utf8',
        });
        assert.equal(second.status, 1);
        assert.match(second.stdout, /^error StoreLockedError: /);
        assert.ok(second.stdout.includes(`process ${pid}`), second.stdout);
        assert.ok(second.stdout.includes(dir.path), second.stdout);
        assert.match(second.stdout, /pass another --data directory/);
        // DuckDB's own lock refuses too when our lock file is gone (e.g. deleted by hand).
        const lock = join(dir.path, LOCK_FILE);
        const content = readFileSync(lock, 'utf8');
        writeFileSync(lock, JSON.stringify({ pid: 999_999_999 }));
        await assert.rejects(openProfileStore(dir.path, { logger: silentLogger }), (err: unknown) => {
          assert.ok(err instanceof StoreLockedError, String(err));
          assert.match(err.message, /Conflicting lock/);
          return true;
        });
        writeFileSync(lock, content);
      } finally {
        holder.child.kill('SIGKILL');
        await exited(holder.child);
      }
      // Same process, second open while the first is open: refused as well.
      const store = await openProfileStore(dir.path, { logger: silentLogger });
      await assert.rejects(openProfileStore(dir.path, { logger: silentLogger }), StoreLockedError);
      await store.close();
    } finally {
      dir.remove();
    }
  });

  it('a corrupt database file is refused with the fix, and left untouched', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, DATABASE_FILE);
      const garbage = Buffer.alloc(300_000, 0x5a);
      writeFileSync(file, garbage);
      await assert.rejects(openProfileStore(dir.path, { logger: silentLogger }), (err: unknown) => {
        assert.ok(err instanceof StoreDirectoryError);
        assert.ok(err.message.includes(file));
        assert.match(err.message, /move it aside \(mv .*\.damaged/);
        return true;
      });
      assert.deepEqual(readFileSync(file), garbage, 'the file is not modified');
      assert.ok(!existsSync(join(dir.path, LOCK_FILE)), 'the lock is released after a failed open');
    } finally {
      dir.remove();
    }
  });

  it('a data directory that cannot be created is refused, naming it and the fix', async () => {
    const dir = tempDir();
    try {
      // Root may write anywhere; a path below a regular file fails for everyone.
      const file = join(dir.path, 'a-file');
      writeFileSync(file, '');
      const target = join(file, 'data');
      await assert.rejects(openProfileStore(target, { logger: silentLogger }), (err: unknown) => {
        assert.ok(err instanceof StoreDirectoryError);
        assert.ok(err.message.includes(target));
        assert.match(err.message, /pass a writable --data directory/);
        return true;
      });
    } finally {
      dir.remove();
    }
  });

  it('a full disk refuses the write with the fix, keeps serving, loses nothing, and recovers once space is freed', async (t) => {
    const dir = tempDir();
    const mount = join(dir.path, 'small-fs');
    mkdirSync(mount);
    try {
      // A real full file system: a 4 MiB tmpfs (needs root and mount rights, as in this project's CI container).
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount], { stdio: 'pipe' });
    } catch (err) {
      dir.remove();
      return t.skip(
        `cannot mount a small tmpfs here (${(err as Error).message.split('\n')[0]}); the full-disk path is untested`,
      );
    }
    try {
      const data = join(mount, 'data');
      const store = await openProfileStore(data, { logger: silentLogger });
      const free = Number(
        execFileSync('df', ['--output=avail', '-B1', mount], { encoding: 'utf8' }).split('\n')[1],
      );
      const filler = join(mount, 'filler');
      writeFileSync(filler, Buffer.alloc(free - 200_000));
      let acknowledged = 0n;
      let failure: unknown;
      for (let round = 0; failure === undefined && round < 100; round++) {
        for (const request of captureRequests(2, BigInt(round) * 60_000_000_000n)) {
          try {
            await store.ingest(request);
            acknowledged = BigInt((await store.flameGraph(selection())).rootTotal);
          } catch (err) {
            failure = err;
            break;
          }
        }
      }
      assert.ok(failure instanceof StoreDirectoryError, `a write failed with ${String(failure)}`);
      assert.ok(failure.message.includes(data));
      assert.match(
        failure.message,
        /is full, the request was not stored .*No space left on device.*free space there/,
      );
      assert.equal((await store.flameGraph(selection())).rootTotal, acknowledged.toString(), 'still serving');
      rmSync(filler);
      const more = captureRequests(2, 10_000n * 60_000_000_000n)[0]!;
      await store.ingest(more);
      const after = BigInt((await store.flameGraph(selection())).rootTotal);
      assert.ok(after > acknowledged, 'writes again once space is free');
      await store.close();
      const reopened = await openProfileStore(data, { logger: silentLogger });
      assert.equal(
        (await reopened.flameGraph(selection())).rootTotal,
        after.toString(),
        'nothing lost across the restart',
      );
      await reopened.close();
    } finally {
      execFileSync('umount', [mount]);
      dir.remove();
    }
  });
});
