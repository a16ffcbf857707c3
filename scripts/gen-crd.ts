// Writes the StreamCluster CRD and the field reference in docs/operator.md from operator/api/.
// With --check, writes nothing and exits 1 when either file is out of date.
import { readFileSync } from 'node:fs';
import { renderCrdYaml, renderReferenceInto } from '../operator/api/generate.js';
import { writeOrCheckGenerated } from './lib/generated-files.js';

const CRD_PATH = 'crds/streamcluster.io_streamclusters.yaml';
const DOC_PATH = 'docs/operator.md';

const check = process.argv.includes('--check');
const outputs = new Map([
  [CRD_PATH, renderCrdYaml()],
  [DOC_PATH, await renderReferenceInto(readFileSync(DOC_PATH, 'utf8'), DOC_PATH)],
]);

const stale = writeOrCheckGenerated(outputs, { check, command: 'npm run gen:crd' });
process.exit(check && stale > 0 ? 1 : 0);
