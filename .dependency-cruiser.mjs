// The layer order of src/, written once: `npm run lint` fails when a folder imports one above it or
// a sibling of its own layer, or when an import cycle appears; test/architecture/layers.test.ts
// checks that docs/architecture.md shows the same order and that every folder has a layer.

/** Bottom first. A folder may import itself and any layer below it; never above, never a sibling. */
export const LAYERS = [
  ['util'],
  ['observability'],
  ['rows'],
  ['config'],
  ['profiles/model'],
  ['profiles/aggregation', 'profiles/encoding', 'profiles/validation', 'profiles/pprof'],
  ['profiles/request'],
  ['gadget-bridge', 'exporter', 'store'],
  ['receiver'],
  ['serve'],
  ['relay'],
  ['cli'],
];

const folderPattern = (folder) => `^src/${folder}/`;

function layerRules() {
  const rules = [];
  LAYERS.forEach((layer, index) => {
    const above = LAYERS.slice(index + 1).flat();
    for (const folder of layer) {
      const siblings = layer.filter((other) => other !== folder);
      const forbiddenTargets = [...above, ...siblings];
      if (forbiddenTargets.length === 0) continue;
      rules.push({
        name: `layer:${folder}`,
        comment: `src/${folder} may only import its own folder and the layers below it (see .dependency-cruiser.mjs)`,
        severity: 'error',
        from: { path: folderPattern(folder) },
        to: { path: forbiddenTargets.map(folderPattern) },
      });
    }
  });
  return rules;
}

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: move the shared part into a file of its own, below both.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-unlayered-folder',
      comment: 'Every folder of src/ has a layer: add it to LAYERS in .dependency-cruiser.mjs.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.flat().map(folderPattern) },
      to: {},
    },
    ...layerRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
