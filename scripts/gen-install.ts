// Writes the generated installation files: dist/install.yaml from cdk8s/, and the chart's copy
// of the CRD, Grafana dashboard and Prometheus rules. With --check, writes nothing and exits 1
// when any file is out of date.
import { generatedInstallFiles } from '../cdk8s/generate.js';
import { writeOrCheckGenerated } from './lib/generated-files.js';

const check = process.argv.includes('--check');
const stale = writeOrCheckGenerated(await generatedInstallFiles(), {
  check,
  command: 'npm run gen:install',
});
process.exit(check && stale > 0 ? 1 : 0);
