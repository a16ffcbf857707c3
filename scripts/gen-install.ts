// Writes the generated installation files: dist/install.yaml from cdk8s/, and the chart's copy
// of the CRD, Grafana dashboard and Prometheus rules. With --check, writes nothing and exits 1
// when any file is out of date.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generatedInstallFiles } from '../cdk8s/generate.js';

const check = process.argv.includes('--check');
let stale = 0;
for (const [path, content] of await generatedInstallFiles()) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // A missing file is simply out of date.
  }
  if (current === content) continue;
  if (check) {
    console.error(`${path} is out of date; run npm run gen:install`);
    stale++;
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    console.error(`wrote ${path}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
