import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const configPath = join(root, '.dependency-cruiser.mjs');
const { LAYERS } = (await import(configPath)) as { LAYERS: string[][] };

/** Folders of src/ that hold files: top-level ones, and profiles/ by stage (its root holds none). */
function sourceFolders(): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, 'src'))) {
    if (!statSync(join(root, 'src', name)).isDirectory()) continue;
    if (name === 'profiles') {
      for (const stage of readdirSync(join(root, 'src', name))) out.push(`profiles/${stage}`);
    } else out.push(name);
  }
  return out.sort();
}

/** The layer table of docs/architecture.md, bottom first, as LAYERS writes it. */
function documentedLayers(): string[][] {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Layers'));
  const rows = [...section.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)].map((m) => ({
    level: Number(m[1]),
    folders: [...m[2]!.matchAll(/`([^`]+)`/g)].map((f) => f[1]!.replace(/\/$/, '')),
  }));
  return rows.sort((a, b) => a.level - b.level).map((r) => r.folders);
}

function depcruise(cwd: string): { status: number | null; output: string } {
  const bin = join(root, 'node_modules/.bin/depcruise');
  const result = spawnSync(bin, ['src', '--config', configPath, '--output-type', 'err'], {
    cwd,
    encoding: 'utf8',
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

function sandbox(files: Record<string, string>): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'layers-'));
  writeFileSync(
    join(path, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'nodenext', strict: true } }),
  );
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(path, file)), { recursive: true });
    writeFileSync(join(path, file), text);
  }
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

describe('layers of src/', () => {
  it('every folder of src/ has exactly one layer, and every layer names a real folder', () => {
    const layered = LAYERS.flat();
    assert.equal(new Set(layered).size, layered.length, 'a folder is listed twice in LAYERS');
    assert.deepEqual([...layered].sort(), sourceFolders());
  });

  it('docs/architecture.md shows the same layer order as the check', () => {
    assert.deepEqual(documentedLayers(), LAYERS);
  });

  it('the source tree passes the check', () => {
    const { status, output } = depcruise(root);
    assert.equal(status, 0, output);
  });

  it('the check fails on an upward import, naming both files', () => {
    const box = sandbox({
      'src/util/clock.ts': "import { run } from '../cli/main.js';\nexport const now = (): number => run();\n",
      'src/cli/main.ts': 'export const run = (): number => 1;\n',
    });
    try {
      const { status, output } = depcruise(box.path);
      assert.notEqual(status, 0);
      assert.match(output, /layer:util/);
      assert.match(output, /src\/util\/clock\.ts → src\/cli\/main\.ts/);
    } finally {
      box.remove();
    }
  });

  it('the check fails on a sibling import inside one layer and on a cycle', () => {
    const box = sandbox({
      'src/store/a.ts': "import { b } from '../exporter/b.js';\nexport const a = (): number => b();\n",
      'src/exporter/b.ts': 'export const b = (): number => 2;\n',
      'src/rows/x.ts': "import { y } from './y.js';\nexport const x = (): number => y();\n",
      'src/rows/y.ts': "import { x } from './x.js';\nexport const y = (): number => x();\n",
    });
    try {
      const { status, output } = depcruise(box.path);
      assert.notEqual(status, 0);
      assert.match(output, /layer:store: src\/store\/a\.ts → src\/exporter\/b\.ts/);
      assert.match(output, /no-circular/);
    } finally {
      box.remove();
    }
  });
});

describe('test/ mirrors src/', () => {
  /** Shared test code, not tests of one source folder. */
  const SHARED = new Set(['support', 'fixtures', 'architecture']);

  function folders(dir: string, prefix = ''): string[] {
    return readdirSync(dir)
      .filter((name) => statSync(join(dir, name)).isDirectory())
      .flatMap((name) => [`${prefix}${name}`, ...folders(join(dir, name), `${prefix}${name}/`)]);
  }

  it('every test folder is a folder of src/ (or web/, deploy/)', () => {
    const strays = folders(join(root, 'test'))
      .filter((folder) => !SHARED.has(folder.split('/')[0]!))
      .filter(
        (folder) =>
          ![`src/${folder}`, folder].some((path) =>
            statSync(join(root, path), { throwIfNoEntry: false })?.isDirectory(),
          ),
      );
    assert.deepEqual(strays, []);
  });
});
