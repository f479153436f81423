import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../support/cli-harness.js';

const COMMANDS = ['export', 'run', 'attach', 'demo', 'serve', 'relay', 'validate'] as const;

describe('help: every command explains itself with examples', () => {
  for (const command of COMMANDS) {
    it(`${command} --help: usage, options and runnable examples; "help ${command}" says the same`, async () => {
      const res = await runCli([command, '--help']);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`^Usage: ig-otel-profiles ${command} `));
      const examples = res.stdout.split('\nExamples:\n')[1];
      assert.ok(examples, `${command} --help has an Examples section`);
      assert.match(examples, /^ {2}(ig-otel-profiles|kubectl) /m);
      const viaHelp = await runCli(['help', command]);
      assert.equal(viaHelp.code, 0);
      assert.equal(viaHelp.stdout, res.stdout);
    });
  }

  it('an example continued on the next line keeps its backslash (a template literal would eat it)', async () => {
    const { stdout } = await runCli(['export', '--help']);
    assert.match(stdout, /--input \/var\/log\/ig\/gadget-data\.log -c config\.yaml \\\n {6}--checkpoint /);
  });

  it('help for an unknown command is a usage error that lists the commands', async () => {
    const res = await runCli(['help', 'exprot']);
    assert.equal(res.code, 2);
    assert.match(
      res.stderr,
      /unknown command "exprot"\. Commands: export, run, attach, demo, serve, relay, validate/,
    );
  });

  it('export given a file name without --input says how to read a file', async () => {
    const res = await runCli(['export', 'capture.jsonl']);
    assert.equal(res.code, 2);
    assert.match(
      res.stderr,
      /unexpected argument "capture\.jsonl": to read a file use --input capture\.jsonl/,
    );
  });
});

describe('demo --files with some of its exporters', () => {
  it('reports and checks only what was selected: pprof alone succeeds without OTLP files', async () => {
    const dir = tempDir();
    try {
      const res = await runCli(['demo', '--files', '--out', dir.path, '--otel-profiles-exporter', 'pprof']);
      assert.equal(res.code, 0, res.stderr + res.stdout);
      assert.match(res.stdout, /pprof profiles: .*\(\d+ file\(s\), one per process\)/);
      assert.doesNotMatch(res.stdout, /OTLP\/JSON requests|ig-otel-profiles validate/);
    } finally {
      dir.cleanup();
    }
  });
});
