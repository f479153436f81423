import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../support/cli-harness.js';

const go = spawnSync('go', ['version'], { encoding: 'utf8' });

describe('demo: the embedded default behind `npm start`', () => {
  it('replays the bundled capture into conforming OTLP files and pprof files, and says how to look at them', async () => {
    const dir = tempDir();
    try {
      const res = await runCli(['demo', '--out', dir.path]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /every profcheck rule holds/);
      assert.match(res.stdout, /go tool pprof -top /);
      const pprofs = readdirSync(join(dir.path, 'pprof')).filter((f) => f.endsWith('.pb.gz'));
      assert.ok(pprofs.length > 1, 'one pprof per process');
      const validate = await runCli(['validate', join(dir.path, 'profiles.otlp.jsonl')]);
      assert.equal(validate.code, 0, validate.stdout);
    } finally {
      dir.cleanup();
    }
  });

  it(
    'the pprof files it points at open in go tool pprof',
    { skip: go.status === 0 ? false : 'go is not installed (Debian golang-go provides go tool pprof)' },
    async () => {
      const dir = tempDir();
      try {
        const res = await runCli(['demo', '--out', dir.path]);
        assert.equal(res.code, 0, res.stderr);
        const file = /go tool pprof -top (\S+)/.exec(res.stdout)?.[1];
        assert.ok(file);
        const top = execFileSync(
          'go',
          ['tool', 'pprof', '-top', '-sample_index=cpu', join(dir.path, 'pprof', file.split('/').pop()!)],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        assert.match(top, /Type: cpu/);
        assert.match(top, /flat%/);
      } finally {
        dir.cleanup();
      }
    },
  );
});
