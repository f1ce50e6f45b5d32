/**
 * Build the notebook widgets' ES modules into jupyter_track/widgets/static/ (git-ignored output).
 *
 *   node js/build.mjs            type-check, then bundle minified
 *   node js/build.mjs --dev      bundle with inline source maps, no type-check
 *
 * Every top-level js/*.ts is one anywidget module. runtime.js bundles vega, vega-lite and
 * vega-embed (nothing is loaded from a CDN); the other modules are small and find that runtime
 * through lib/vega.ts. widgets.css is copied as is.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const outdir = join(root, 'jupyter_track', 'widgets', 'static');
const dev = process.argv.includes('--dev');

if (!dev) {
  try {
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(here, 'tsconfig.json')
      ],
      { stdio: 'inherit' }
    );
  } catch {
    console.error('widgets: type errors in js/ (see above)');
    process.exit(1);
  }
}

const entryPoints = readdirSync(here)
  .filter(name => name.endsWith('.ts') && !name.endsWith('.d.ts'))
  .map(name => join(here, name));

mkdirSync(outdir, { recursive: true });
await build({
  entryPoints,
  outdir,
  bundle: true,
  format: 'esm',
  target: 'es2020',
  platform: 'browser',
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' }
});
copyFileSync(join(here, 'widgets.css'), join(outdir, 'widgets.css'));
// the trace view's styles: one file for the sidebar (style/) and the trace widget
copyFileSync(join(root, 'style', 'traceview.css'), join(outdir, 'traceview.css'));
console.log(`widgets: ${entryPoints.length} modules -> ${outdir}`);
