// Builds the balancer's web page into a folder: `npx tsx scripts/build-web.ts [OUT_DIR]`
// (default dist/web). The balancer serves that folder with `--web-root`.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'web');

/** Static files copied next to the bundle. */
const staticFiles = ['index.html', 'style.css'];

/**
 * Bundles web/app.ts with the client library into `outDir/app.js` (an ES module for current
 * browsers, with a source map) and copies the HTML and CSS beside it. `ws` stays out of the
 * bundle: the client imports it only when the platform has no WebSocket, which browsers always do.
 */
export async function buildWebPage(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(webDir, 'app.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    external: ['ws'],
    sourcemap: true,
    logLevel: 'warning',
  });
  await Promise.all(staticFiles.map((name) => copyFile(join(webDir, name), join(outDir, name))));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? 'dist/web');
  await buildWebPage(outDir);
  process.stdout.write(`web page built in ${outDir}\n`);
}
