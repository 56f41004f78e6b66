// Bundles the console (src/main.js and src/styles.css) into the edge's console/ folder, where the edge serves it,
// with content-hashed names so browsers may keep them for good, and writes index.html naming them.
import * as esbuild from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '../../gateway/Yarp/console');

await rm(out, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['src/main.js', 'src/styles.css'],
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  outdir: out,
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const built = entry => path.basename(Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === entry)[0]);
const page = (await readFile(path.join(here, 'src/index.html'), 'utf8'))
  .replace('{{script}}', built('src/main.js'))
  .replace('{{styles}}', built('src/styles.css'));
await writeFile(path.join(out, 'index.html'), page);
