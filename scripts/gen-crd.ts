// Writes the StreamCluster CRD and the field reference in docs/operator.md from operator/api/.
// With --check, writes nothing and exits 1 when either file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderCrdYaml, renderReferenceInto } from '../operator/api/generate.js';

const CRD_PATH = 'crds/streamcluster.io_streamclusters.yaml';
const DOC_PATH = 'docs/operator.md';

const check = process.argv.includes('--check');
const outputs = new Map([
  [CRD_PATH, renderCrdYaml()],
  [DOC_PATH, await renderReferenceInto(readFileSync(DOC_PATH, 'utf8'), DOC_PATH)],
]);

let stale = 0;
for (const [path, content] of outputs) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // A missing file is simply out of date.
  }
  if (current === content) continue;
  if (check) {
    console.error(`${path} is out of date; run npm run gen:crd`);
    stale++;
  } else {
    writeFileSync(path, content);
    console.error(`wrote ${path}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
