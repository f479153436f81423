import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { substituteEnv } from '../../src/config/env-substitution.js';

describe('substituteEnv', () => {
  const env = { TOKEN: 's3cr3t', EMPTY: '', HOST: 'collector' };

  it('replaces ${NAME} with the variable', () => {
    assert.deepEqual(substituteEnv('Bearer ${TOKEN}', env), { ok: true, value: 'Bearer s3cr3t' });
    assert.deepEqual(substituteEnv('${HOST}:4317', env), { ok: true, value: 'collector:4317' });
    assert.deepEqual(substituteEnv('${EMPTY}x', env), { ok: true, value: 'x' });
  });

  it('uses the fallback of ${NAME:-fallback} when unset or empty', () => {
    assert.deepEqual(substituteEnv('${NOPE:-localhost}:4317', env), { ok: true, value: 'localhost:4317' });
    assert.deepEqual(substituteEnv('${EMPTY:-d}', env), { ok: true, value: 'd' });
    assert.deepEqual(substituteEnv('${HOST:-d}', env), { ok: true, value: 'collector' });
  });

  it('keeps $${ as a literal ${', () => {
    assert.deepEqual(substituteEnv('a$${TOKEN}b', env), { ok: true, value: 'a${TOKEN}b' });
  });

  it('reports every unset variable by name, and bad references', () => {
    const result = substituteEnv('${A1} and ${B2} and ${bad name}', env);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.problems.length, 3);
    assert.match(result.problems[0] ?? '', /environment variable A1 is not set/);
    assert.match(result.problems[1] ?? '', /environment variable B2 is not set/);
    assert.match(result.problems[2] ?? '', /"\$\{bad name\}" is not a variable reference/);
  });

  it('leaves text without references alone', () => {
    assert.deepEqual(substituteEnv('$HOME {x} $', env), { ok: true, value: '$HOME {x} $' });
  });
});
